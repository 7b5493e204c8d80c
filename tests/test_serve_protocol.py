"""The service's HTTP protocol writes what one turn of the event loop wrote in one send
(engine.serve.protocol): in order, before the connection closes, never after it closed.
Over real HTTP it is exercised by test_serve_process.py."""

from __future__ import annotations

import asyncio

from engine.serve.protocol import OneWriteTransport


class Recording:
    """A transport that records what is sent, and whether it was closed."""

    def __init__(self):
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


def test_the_writes_of_one_turn_go_out_together_in_order():
    async def scenario():
        recording = Recording()
        transport = OneWriteTransport(recording, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"{}")
        assert recording.sent == []
        await asyncio.sleep(0)
        transport.write(b"next")
        await asyncio.sleep(0)
        return recording.sent

    assert asyncio.run(scenario()) == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"next"]


def test_closing_sends_what_is_held_first_and_nothing_is_sent_after():
    async def scenario():
        recording = Recording()
        transport = OneWriteTransport(recording, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        transport.close()
        await asyncio.sleep(0)
        transport.write(b"late")
        await asyncio.sleep(0)
        return recording

    recording = asyncio.run(scenario())
    assert recording.sent == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and recording.closed


def test_everything_else_is_the_transports_own():
    async def scenario():
        recording = Recording()
        transport = OneWriteTransport(recording, asyncio.get_running_loop())
        return transport.get_extra_info("peername"), transport.is_closing()

    assert asyncio.run(scenario()) == (("127.0.0.1", 5), False)
