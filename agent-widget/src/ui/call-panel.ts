import type { CallInfo, Softphone } from '../softphone/softphone.js';
import { byId, clock, show } from './dom.js';

/** The Call card: state line, timer, and the buttons that fit the state. */
export class CallPanel {
  private readonly state = byId('call-state');
  private readonly timer = byId('call-timer');
  private readonly answer = byId('answer', HTMLButtonElement);
  private readonly reject = byId('reject', HTMLButtonElement);
  private readonly mute = byId('mute', HTMLButtonElement);
  private readonly hold = byId('hold', HTMLButtonElement);
  private readonly hangup = byId('hangup', HTMLButtonElement);
  private tick: ReturnType<typeof setInterval> | null = null;
  private connectedAt = 0;
  private phone: Softphone | null = null;

  constructor(private readonly say: (text: string) => void) {
    const act = (fn: (p: Softphone) => Promise<void> | void) => () => {
      const p = this.phone;
      if (!p) return;
      Promise.resolve(fn(p)).catch((err: unknown) => this.say(err instanceof Error ? err.message : 'That did not work'));
    };
    this.answer.addEventListener('click', act((p) => p.answer()));
    this.reject.addEventListener('click', act((p) => p.reject()));
    this.hangup.addEventListener('click', act((p) => p.hangup()));
    this.hold.addEventListener('click', act((p) => p.setHold(!p.call.held)));
    this.mute.addEventListener('click', act((p) => p.setMute(!p.call.muted)));
  }

  attach(phone: Softphone | null): void {
    this.phone = phone;
    this.render({ state: 'idle', remote: '', held: false, muted: false });
    phone?.on('call', (c) => this.render(c));
  }

  private render(c: CallInfo): void {
    const live = c.state === 'connected';
    show(this.answer, c.state === 'ringing');
    show(this.reject, c.state === 'ringing');
    show(this.mute, live);
    show(this.hold, live);
    show(this.hangup, live || c.state === 'connecting');
    this.mute.textContent = c.muted ? 'Unmute' : 'Mute';
    this.mute.setAttribute('aria-pressed', String(c.muted));
    this.hold.textContent = c.held ? 'Resume' : 'Hold';
    this.hold.setAttribute('aria-pressed', String(c.held));
    const text: Record<CallInfo['state'], string> = {
      idle: 'Waiting for calls',
      ringing: `Incoming call from ${c.remote}`,
      connecting: `Connecting to ${c.remote}…`,
      connected: c.held ? `On hold: ${c.remote}` : `On call with ${c.remote}`,
      ended: c.endReason === 'missed' ? `Missed call from ${c.remote}` : 'Call ended',
    };
    const before = this.state.textContent;
    this.state.textContent = text[c.state];
    this.state.dataset.state = c.held ? 'held' : c.state;
    if (before !== this.state.textContent) this.say(this.state.textContent);
    if (live && !this.tick) {
      this.connectedAt = Date.now();
      this.tick = setInterval(() => (this.timer.textContent = clock(Date.now() - this.connectedAt)), 1000);
      this.timer.textContent = '00:00';
    } else if (!live && this.tick) {
      clearInterval(this.tick);
      this.tick = null;
    }
    show(this.timer, live);
  }
}
