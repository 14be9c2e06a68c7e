"""Unit tests of the call page's modules in Chromium, without a call: signalling.js (seq, ack and
resend, heartbeat) against a fake socket, reconnect.js (back-off, and its reset after a good
connection), and peer.js (perfect negotiation: two peers offering at once, with `send` injected).

Each test opens a plain page of the live server (for its origin) and imports the modules from their
static URLs, exactly as the call page does, so a protocol change is tested here before a full call.
"""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from playwright.sync_api import Page

from tests.browser.test_call import chromium  # noqa: F401 - the browser with the flags calls need


@pytest.fixture
def module_page(new_page, transactional_db) -> Page:
    page = new_page()
    page.goto("/login/")
    return page


def urls() -> dict:
    return {name: static(f"rapport/{name}.js") for name in ("signalling", "reconnect", "peer")}


# A fake WebSocket: records what is sent, and lets the test deliver messages and close it.
_FAKE_SOCKET = """
class FakeSocket extends EventTarget {
  static OPEN = 1;
  static instances = [];
  constructor(url) { super(); this.url = url; this.readyState = 1; this.sent = []; FakeSocket.instances.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code = 1005) { if (this.readyState === 3) return; this.readyState = 3; this.closedWith = code; this.dispatchEvent(Object.assign(new Event("close"), { code })); }
  deliver(message) { this.dispatchEvent(Object.assign(new Event("message"), { data: JSON.stringify(message) })); }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
"""


def run(page: Page, body: str):
    """Run `body` (an async function body) with the modules imported as S (signalling), R (reconnect), P (peer)."""
    return page.evaluate(
        f"""async (urls) => {{
            const S = await import(urls.signalling);
            const R = await import(urls.reconnect);
            const P = await import(urls.peer);
            {_FAKE_SOCKET}
            {body}
        }}""",
        urls(),
    )


def test_messages_are_numbered_and_only_sent_on_an_open_socket(module_page, page_problems):
    result = run(module_page, """
        const received = [];
        const socket = new S.SignallingSocket({ url: "ws://x/", WebSocketClass: FakeSocket, onMessage: (m) => received.push(m), onClose: () => {} });
        const notYet = socket.send({ type: "ping" });
        socket.connect();
        const fake = FakeSocket.instances[0];
        const seqs = [socket.nextSeq(), socket.nextSeq(), socket.nextSeq()];
        socket.send({ type: "ack", to: "p1", seq: socket.nextSeq(), ack: 9 });
        fake.deliver({ type: "welcome" });
        fake.dispatchEvent(Object.assign(new Event("message"), { data: "not json" }));  // ignored
        fake.readyState = 3;
        const closedSend = socket.send({ type: "ping" });
        return { notYet, seqs, sent: fake.sent, received, closedSend };
    """)
    assert result["notYet"] is False and result["closedSend"] is False
    assert result["seqs"] == [1, 2, 3]
    assert result["sent"] == [{"type": "ack", "to": "p1", "seq": 4, "ack": 9}]
    assert result["received"] == [{"type": "welcome"}]
    page_problems.assert_none(module_page)


def test_an_unacknowledged_offer_is_sent_again_with_a_new_seq_until_acked_then_gives_up(module_page, page_problems):
    result = run(module_page, """
        const sent = [];
        let seq = 0, gaveUp = 0;
        const sender = new S.ReliableSender({ send: (m) => { sent.push(m); return true; }, nextSeq: () => ++seq,
                                              onGiveUp: () => gaveUp++, timeoutMs: 40, maxResends: 2 });
        sender.newGeneration();
        sender.send({ type: "offer", to: "p2", sdp: "v=0 one" });
        await sleep(60);                     // no ack: sent again
        const afterOne = sent.map((m) => m.seq);
        sender.acknowledged(sent[sent.length - 1].seq);
        await sleep(120);                    // acknowledged: nothing more
        const afterAck = sent.length;
        sender.newGeneration();
        sender.send({ type: "answer", to: "p2", sdp: "v=0 two" });
        await sleep(250);                    // never acknowledged: 1 + 2 resends, then give up
        const answers = sent.filter((m) => m.type === "answer").map((m) => m.seq);
        // A superseded description is not sent again.
        sender.newGeneration();
        sender.send({ type: "offer", to: "p2", sdp: "v=0 three" });
        sender.newGeneration();
        await sleep(80);
        const threes = sent.filter((m) => m.sdp === "v=0 three").length;
        return { afterOne, afterAck, answers, gaveUp, threes, sdps: sent.map((m) => m.sdp) };
    """)
    assert result["afterOne"] == [1, 2]
    assert result["afterAck"] == 2
    assert len(result["answers"]) == 3 and result["answers"] == sorted(set(result["answers"]))
    assert result["gaveUp"] == 1
    assert result["threes"] == 1
    page_problems.assert_none(module_page)


def test_the_heartbeat_pings_and_a_silent_connection_is_closed_as_dead(module_page, page_problems):
    result = run(module_page, """
        const closes = [];
        let clock = 0;
        const socket = new S.SignallingSocket({ url: "ws://x/", WebSocketClass: FakeSocket, onMessage: () => {},
                                                onClose: (code, dead) => closes.push([code, dead]), now: () => clock });
        socket.connect();
        const fake = FakeSocket.instances[0];
        socket.startHeartbeat(0.05);          // every 50 ms
        await sleep(130);
        const pings = fake.sent.filter((m) => m.type === "ping").length;
        fake.deliver({ type: "pong" });        // heard: still alive
        clock = 1000;                          // a second with nothing heard: more than 2.5 heartbeats
        await sleep(80);
        return { pings, closes, closedWith: fake.closedWith, stillTicking: socket.heartbeat !== null };
    """)
    assert result["pings"] >= 2
    assert result["closes"] == [[1006, True]]
    assert result["stillTicking"] is False
    page_problems.assert_none(module_page)


def test_the_back_off_grows_and_starts_again_after_a_good_connection(module_page, page_problems):
    result = run(module_page, """
        const backoff = new R.Backoff({ random: () => 0 });
        const first = [backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()];
        backoff.reset();
        const again = backoff.next();
        const jitter = new R.Backoff({ random: () => 0.999 }).next();
        return { first, again, jitter };
    """)
    assert result["first"] == [1000, 2000, 4000, 8000, 10000]
    assert result["again"] == 1000
    assert 1000 <= result["jitter"] < 1500
    page_problems.assert_none(module_page)


def test_perfect_negotiation_settles_when_both_peers_offer_at_once(module_page, page_problems):
    result = run(module_page, """
        // Two peers in one page; each one's `send` delivers to the other a moment later, as the server would.
        const peers = {};
        let seq = 0;
        const wire = (from) => (message) => {
          const to = peers[message.to];
          setTimeout(() => {
            const relayed = { ...message, from };
            delete relayed.to;
            if (relayed.type === "ack") to.negotiation.acknowledged(relayed.ack);
            else to.queue = to.queue.then(() => to.negotiation.handle(relayed));
          }, 5);
          return true;
        };
        const counts = { offers: { a: 0, b: 0 }, ignored: 0 };
        for (const [me, other, polite] of [["a", "b", false], ["b", "a", true]]) {
          const pc = new RTCPeerConnection();
          const send = wire(me);
          const counting = (message) => { if (message.type === "offer") counts.offers[me] += 1; return send(message); };
          peers[me] = { pc, queue: Promise.resolve(), negotiation: new P.Negotiation({ pc, peerId: other, polite, send: counting, nextSeq: () => ++seq }) };
        }
        const original = peers.a.negotiation.handle.bind(peers.a.negotiation);
        peers.a.negotiation.handle = async (m) => { const r = await original(m); if (peers.a.negotiation.ignoreOffer) counts.ignored += 1; return r; };
        // Both add media at the same moment: both make an offer (glare).
        peers.a.pc.addTransceiver("audio");
        peers.b.pc.addTransceiver("audio");
        const deadline = Date.now() + 10000;
        while (Date.now() < deadline) {
          // Settled: connected, no offer still in flight (a second round may follow the collision), all acknowledged.
          if (["a", "b"].every((k) => peers[k].pc.connectionState === "connected" && peers[k].pc.signalingState === "stable"
                                     && peers[k].negotiation.reliable.unacked.size === 0)) break;
          await sleep(50);
        }
        return {
          states: ["a", "b"].map((k) => [peers[k].pc.signalingState, peers[k].pc.connectionState, Boolean(peers[k].pc.remoteDescription)]),
          offers: counts.offers, ignored: counts.ignored,
          unacked: ["a", "b"].map((k) => peers[k].negotiation.reliable.unacked.size),
        };
    """)
    assert result["states"] == [["stable", "connected", True], ["stable", "connected", True]], result
    assert result["offers"]["a"] >= 1 and result["offers"]["b"] >= 1, result  # both offered: a real collision
    assert result["ignored"] >= 1, result  # the impolite side ignored the polite side's offer
    assert result["unacked"] == [0, 0], result  # every description was acknowledged
    page_problems.assert_none(module_page)


def test_an_unanswered_offer_is_sent_again_when_the_peer_is_announced_again(module_page, page_problems):
    result = run(module_page, """
        const sent = [];
        let seq = 0;
        const pc = new RTCPeerConnection();
        const negotiation = new P.Negotiation({ pc, peerId: "p2", polite: false, send: (m) => { sent.push(m); return true; }, nextSeq: () => ++seq });
        pc.addTransceiver("audio");
        while (!sent.some((m) => m.type === "offer")) await sleep(10);
        negotiation.acknowledged(sent.find((m) => m.type === "offer").seq);  // or forgotten after peer-not-found
        negotiation.reoffer();
        const offers = sent.filter((m) => m.type === "offer");
        const polite = new P.Negotiation({ pc: new RTCPeerConnection(), peerId: "p3", polite: true, send: (m) => { sent.push(m); return true; }, nextSeq: () => ++seq });
        polite.reoffer();  // nothing to send: no offer of its own
        negotiation.close();
        // The same offer again: ICE candidates gathered meanwhile are appended to the local description, so
        // compare without them.
        const bare = (sdp) => sdp.split("\\r\\n").filter((l) => !l.startsWith("a=candidate") && !l.startsWith("a=end-of-candidates")).join("\\r\\n");
        return { count: offers.length, same: bare(offers[0].sdp) === bare(offers[1].sdp), newSeq: offers[1].seq > offers[0].seq,
                 total: sent.filter((m) => m.type === "offer").length };
    """)
    assert result == {"count": 2, "same": True, "newSeq": True, "total": 2}
    page_problems.assert_none(module_page)
