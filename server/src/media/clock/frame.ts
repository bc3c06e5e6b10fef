/** The media plane's frame: G.711 at 8 kHz (RFC 3551 §4.5.14), one frame per 20 ms tick. */
export const SAMPLE_RATE = 8000;
export const FRAME_MS = 20;
/** Samples per frame (20 ms at 8 kHz). */
export const FRAME = (SAMPLE_RATE * FRAME_MS) / 1000;
