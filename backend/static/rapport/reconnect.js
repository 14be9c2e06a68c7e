// One reconnect policy for every socket Rapport's pages keep open: the call and the waiting room
// (call.js), risk flags (risk-flags.js) and the connection test (connection-test.js).
//
// Wait 1, 2, 4 … seconds (never more than `maxMs`), plus up to half a second at random so that many
// pages dropped at once do not all come back in the same instant; and start again from 1 second once a
// connection has proved good (the caller says so with `reset()`, e.g. on the server's first message).
// docs/signalling.md asks for exactly this on close 1013 ("backing off (1, 2, 4 s ...)").

export class Backoff {
  constructor({ baseMs = 1000, maxMs = 10000, jitterMs = 500, random = Math.random } = {}) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.jitterMs = jitterMs;
    this.random = random;
    this.attempts = 0;
  }

  // How long to wait before the next attempt (and count it).
  next() {
    const wait = Math.min(this.baseMs * 2 ** this.attempts, this.maxMs) + Math.floor(this.random() * this.jitterMs);
    this.attempts += 1;
    return wait;
  }

  // The connection is good again: the next drop starts from the shortest wait.
  reset() {
    this.attempts = 0;
  }
}
