"""channels_redis's pub/sub layer with a bound on what waits for each consumer.

`channels_redis.pubsub.RedisPubSubChannelLayer` gives every channel (every consumer) an unbounded
`asyncio.Queue`: each process's one reader task `put_nowait`s every published message into the queue
of the channel (or of each member of the group) it was published to. It never raises ChannelFull, so
a consumer that cannot keep up (its client is not reading, so each WebSocket send waits) grows its
queue, and the server's memory, without limit (issue 12).

Here each channel's queue holds at most `capacity` messages and `max_queued_bytes` bytes (the
serialized size); beyond either, the new message is dropped instead, never blocking the shared reader:

- A sender that wants to know puts `reply_if_dropped: {"channel": ..., "message": {...}}` in its
  message; if the message is dropped, the layer sends that reply to that channel (the signalling
  consumer uses it to answer `peer-busy`, docs/signalling.md).
- A consumer that calls `report_overflow(channel_name)` receives one `{"type": "channel.overflow",
  "dropped": n}` before its next message after anything was dropped, so it can resynchronise (the
  signalling consumer closes with 4408 and the client reconnects). Other consumers' excess is dropped
  silently: every consumer's memory stays bounded either way.

Two costs of channels_redis's pub/sub layer are also removed here (issue 12, "CPU per relayed message";
docs/performance.md says what the profile showed):

- **Local delivery.** A message for a channel whose consumer lives in this process (and the members of
  a group that live here) goes straight into their queues, without the round trip through Redis; only
  the other processes' share is published. Every published payload starts with this layer's random
  `origin`, so the copy of a group message that Redis echoes back to its own sender is skipped, not
  delivered twice. Order is kept: a consumer's sends are awaited one after another, and local
  recipients get each message before it is even published.
- **No serializing for a neighbour.** A message sent to one channel whose consumer is in this process
  goes into its queue as the message itself (`_Local`), not msgpack'd and unpacked again; its size for
  the byte bound is estimated from its strings. (Group messages, shared by several local consumers,
  are still serialized, so no two consumers share one dict.)
- **Batched publishing.** channels_redis publishes one message per round trip under a lock that every
  publish and subscribe of the process shares, so publishes queue behind each other. Here publishes are
  queued in order and sent by one task in pipelines: one round trip for everything waiting. A caller
  still waits until Redis has taken its message, and gets the error if Redis did not.

Configured in settings.CHANNEL_LAYERS (`capacity`, `max_queued_bytes`); everything else is channels_redis's.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts

logger = logging.getLogger(__name__)

OVERFLOW_EVENT = "channel.overflow"
DEFAULT_CAPACITY = 100
DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024
ORIGIN_BYTES = 16


class _Local:
    """A message for a consumer in this process, queued as it is (module docstring)."""

    __slots__ = ("message", "size")

    def __init__(self, message: dict):
        self.message = message
        self.size = _approximate_size(message)

    def __len__(self) -> int:
        return self.size


def _approximate_size(value, depth: int = 0) -> int:
    """Roughly what `value` would take serialized: its strings and bytes, and 16 bytes per item."""
    size = 0
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, (str, bytes)):
            size += len(item) + 16
        elif isinstance(item, (dict, list, tuple)) and depth < 4:
            size += _approximate_size(item, depth + 1) + 16
        else:
            size += 16
    return size


class BoundedQueue(asyncio.Queue):
    """A channel's waiting messages (serialized bytes), dropping new ones beyond the bounds."""

    def __init__(self, capacity: int, max_bytes: int, on_drop):
        super().__init__()
        self.capacity, self.max_bytes, self.on_drop = capacity, max_bytes, on_drop
        self.queued_bytes = 0
        self.dropped = 0
        self.reported = 0
        self.report = False

    def put_nowait(self, item):
        if self.qsize() >= self.capacity or self.queued_bytes + len(item) > self.max_bytes:
            self.dropped += 1
            self.on_drop(item)
            return
        self.queued_bytes += len(item)
        super().put_nowait(item)

    def _get(self):
        item = super()._get()
        self.queued_bytes -= len(item)
        return item


class _Shard(RedisSingleShardConnection):
    """One Redis connection set: publishes batched in order (module docstring), and the reader skipping
    this layer's own echoes and removing the origin from the rest."""

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._outbox: deque = deque()  # (channel, payload, future), in the order published
        self._sender: asyncio.Task | None = None

    async def publish(self, channel, message):
        self._ensure_redis()
        done = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_waiting())
        await done

    async def _send_waiting(self) -> None:
        while self._outbox:
            batch = list(self._outbox)
            self._outbox.clear()
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, message, _ in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except Exception as error:  # noqa: BLE001 - each waiting publisher gets the error, as with one publish
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _receive_message(self, message):
        if message is None:
            return
        data = message["data"]
        if data[:ORIGIN_BYTES] == self.channel_layer.origin:
            return  # ours: its local recipients already have it
        super()._receive_message({**message, "data": data[ORIGIN_BYTES:]})


class BoundedRedisPubSubLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, *args, capacity: int = DEFAULT_CAPACITY, max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES, **kwargs):
        super().__init__(hosts, *args, **kwargs)
        self.capacity, self.max_queued_bytes = capacity, max_queued_bytes
        self._replies: set[asyncio.Task] = set()
        self.origin = os.urandom(ORIGIN_BYTES)  # marks what this layer published (module docstring)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]

    async def send(self, channel, message):
        queue = self.channels.get(channel)
        if queue is not None:  # its consumer is in this process: the message itself, not serialized
            queue.put_nowait(_Local(message))
            return
        await self._get_shard(channel).publish(channel, self.origin + self.channel_layer.serialize(message))

    async def group_send(self, group, message):
        group_channel = self._get_group_channel_name(group)
        data = self.channel_layer.serialize(message)
        for channel in self.groups.get(group_channel, ()):
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(data)
        await self._get_shard(group_channel).publish(group_channel, self.origin + data)

    async def _subscribe_to_channel(self, channel):
        # As channels_redis does, with a bounded queue in place of asyncio.Queue().
        self.channels[channel] = BoundedQueue(self.capacity, self.max_queued_bytes, self._dropped)
        await self._get_shard(channel).subscribe(channel)

    def report_overflow(self, channel: str) -> None:
        queue = self.channels.get(channel)
        if isinstance(queue, BoundedQueue):
            queue.report = True

    def _dropped(self, data: bytes) -> None:
        """Called in the shared reader: must not raise or wait."""
        try:
            message = data.message if isinstance(data, _Local) else self.channel_layer.deserialize(data)
            reply = message.get("reply_if_dropped") if isinstance(message, dict) else None
            if reply:
                task = asyncio.ensure_future(self.send(reply["channel"], reply["message"]))
                self._replies.add(task)
                task.add_done_callback(self._reply_sent)
        except Exception:  # noqa: BLE001 - a bad message must not stop the reader that serves every consumer
            logger.warning("channel layer: could not answer a dropped message")

    def _reply_sent(self, task: asyncio.Task) -> None:
        self._replies.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("channel layer: reply to a dropped message failed: %s", type(task.exception()).__name__)

    async def receive(self, channel):
        queue = self.channels.get(channel)
        if isinstance(queue, BoundedQueue) and queue.report and queue.dropped > queue.reported:
            dropped, queue.reported = queue.dropped - queue.reported, queue.dropped
            return {"type": OVERFLOW_EVENT, "dropped": dropped}
        return await super().receive(channel)


class BoundedRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """settings.CHANNEL_LAYERS BACKEND: one bounded loop layer per event loop, as channels_redis does."""

    def deserialize(self, message):
        if isinstance(message, _Local):  # queued by a consumer in this process (module docstring)
            return message.message
        return super().deserialize(message)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = BoundedRedisPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
