/**
 * Requests inside a dialog as client transactions (RFC 3261 12.2.1.1): the request comes from the
 * dialog (Dialog.buildRequest), is sent on the flow the dialog lives on, and its final response
 * (or 'timeout' for Timer B/F or a transport error, RFC 3261 17.1.4) reaches `onFinal` once. An
 * INVITE's 2xx is ACKed by the caller (13.2.2.4); its non-2xx ACK is the transaction's (17.1.1.3).
 */
import type { Dialog } from '../dialog/dialog.js';
import type { OutgoingBody } from '../dialog/serialize.js';
import type { SipStack } from '../stack.js';
import type { IncomingResponseMessage } from '../transaction/index.js';
import type { SipFlow } from '../transport/types.js';

export type FinalResponse = IncomingResponseMessage | 'timeout';

export interface InDialogOptions {
  readonly body?: OutgoingBody;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** Every response for an INVITE (provisionals too), else the final only. */
  readonly onFinal?: (res: FinalResponse) => void;
  /** A handler that threw, or a request that could not be sent. */
  readonly onError?: (err: unknown) => void;
}

/** Sends `method` in `dialog` on `flow`; returns the CSeq it used, or undefined when it was not sent. */
export function requestInDialog(stack: Pick<SipStack, 'sendRequest' | 'via'>, dialog: Dialog, flow: SipFlow, method: string, o: InDialogOptions = {}): number | undefined {
  const req = dialog.buildRequest(method, stack.via(flow, dialog.remoteTarget), { ...(o.body ? { body: o.body } : {}), ...(o.headers ? { headers: o.headers } : {}) });
  let answered = false;
  const done = (r: FinalResponse): void => {
    if (answered && r === 'timeout') return;
    try {
      o.onFinal?.(r);
    } catch (err) {
      o.onError?.(err);
    }
  };
  try {
    stack.sendRequest({
      request: req.text,
      method,
      branch: req.branch,
      flow,
      user: {
        onResponse: (res) => {
          const final = (res.statusCode ?? 0) >= 200;
          if (final) answered = true;
          if (final || method === 'INVITE') done(res);
        },
        onTimeout: () => done('timeout'),
        onTransportError: () => done('timeout'),
      },
    });
  } catch (err) {
    o.onError?.(err);
    done('timeout');
    return undefined;
  }
  return req.cseq;
}
