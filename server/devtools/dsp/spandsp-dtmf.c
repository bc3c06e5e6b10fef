/*
 * spandsp-dtmf: the independent DTMF decoder ("oracle") for tonegate's media tests.
 *
 * Reads raw 16-bit little-endian 8 kHz mono PCM on stdin, runs spandsp's dtmf_rx over it in
 * 10 ms chunks with default parameters, and prints one line per digit:
 *     D <digit> <sample index at the end of the chunk in which spandsp reported it>
 * and a last line "N <number of digits>".
 *
 * With "-b REPEATS" it instead times dtmf_rx over the whole input REPEATS times and prints
 *     B <samples per second> <digits found in the first pass>
 *
 * Build: gcc -O2 -o spandsp-dtmf spandsp-dtmf.c -lspandsp   (Debian: libspandsp-dev)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

#define CHUNK 80

static int16_t *read_all(size_t *samples)
{
    size_t cap = 1 << 20;
    size_t len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0)
    {
        len += n;
        if (len == cap)
        {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    if (buf == NULL)
    {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    *samples = len / 2;
    /* Little-endian input; convert in place on big-endian hosts. */
    int16_t *pcm = (int16_t *) buf;
    for (size_t i = 0; i < *samples; i++)
        pcm[i] = (int16_t) (buf[2 * i] | (buf[2 * i + 1] << 8));
    return pcm;
}

static int run(const int16_t *pcm, size_t samples, int print)
{
    dtmf_rx_state_t *rx = dtmf_rx_init(NULL, NULL, NULL);
    char digits[MAX_DTMF_DIGITS + 1];
    int total = 0;
    for (size_t at = 0; at < samples; at += CHUNK)
    {
        int len = (samples - at < CHUNK) ? (int) (samples - at) : CHUNK;
        dtmf_rx(rx, pcm + at, len);
        size_t got = dtmf_rx_get(rx, digits, MAX_DTMF_DIGITS);
        for (size_t i = 0; i < got; i++)
        {
            if (print)
                printf("D %c %zu\n", digits[i], at + len);
            total++;
        }
    }
    dtmf_rx_free(rx);
    return total;
}

int main(int argc, char *argv[])
{
    size_t samples;
    int16_t *pcm = read_all(&samples);
    if (argc == 3 && strcmp(argv[1], "-b") == 0)
    {
        int repeats = atoi(argv[2]);
        int found = run(pcm, samples, 0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r = 0; r < repeats; r++)
            run(pcm, samples, 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("B %.0f %d\n", (double) samples * repeats / secs, found);
        return 0;
    }
    printf("N %d\n", run(pcm, samples, 1));
    free(pcm);
    return 0;
}
