/** The demo SMS inbox: polls `GET /demo/sms` and lists the messages, newest first, OTP highlighted. */
export interface DemoSms {
  to: string;
  senderId: string;
  peId: string;
  templateId: string;
  text: string;
  sentAt: string;
}

export function startInbox(list: HTMLElement, empty: HTMLElement, everyMs = 2000): () => void {
  let shown = -1;
  let stopped = false;
  const render = (messages: readonly DemoSms[]): void => {
    if (messages.length === shown) return;
    shown = messages.length;
    empty.hidden = messages.length > 0;
    list.replaceChildren(
      ...[...messages].reverse().map((m) => {
        const li = document.createElement('li');
        li.className = 'sms';
        const meta = document.createElement('div');
        meta.className = 'sms-meta';
        const from = document.createElement('span');
        from.textContent = `${m.senderId} → ${m.to}`;
        const at = document.createElement('time');
        at.dateTime = m.sentAt;
        at.textContent = new Date(m.sentAt).toLocaleTimeString();
        meta.append(from, at);
        const text = document.createElement('p');
        text.className = 'sms-text';
        // Highlight the OTP (the first run of 4-8 digits) without HTML injection.
        const otp = /\b\d{4,8}\b/.exec(m.text);
        if (otp) {
          const mark = document.createElement('mark');
          mark.className = 'sms-otp';
          mark.textContent = otp[0];
          text.append(m.text.slice(0, otp.index), mark, m.text.slice(otp.index + otp[0].length));
        } else text.textContent = m.text;
        li.append(meta, text);
        return li;
      }),
    );
  };
  const poll = async (): Promise<void> => {
    while (!stopped) {
      try {
        const res = await fetch('/demo/sms', { headers: { accept: 'application/json' }, cache: 'no-store' });
        if (res.ok) render(((await res.json()) as { messages?: DemoSms[] }).messages ?? []);
      } catch {
        // the gateway restarts or the network blips: try again on the next tick
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  void poll();
  return () => {
    stopped = true;
  };
}
