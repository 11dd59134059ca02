"""A TCP proxy on 127.0.0.1 that can cut its connections silently, for tests of what a client does with
connections that died without telling it (a database failover, a dropped NAT or load-balancer entry).

After `sever_silently()`, every connection open at that moment is closed towards the server, while the
client hears nothing until it next sends something; then its connection is reset. New connections are
forwarded as usual.

After `lose_the_answer(containing)`, the first answer from the server containing those bytes is dropped and
its connection reset: the server did the work (a committed INSERT, say) and the client never hears so.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

__all__ = ["SeveringProxy"]


@dataclass(eq=False)
class _Pipe:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    severed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class SeveringProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._pipes: set[_Pipe] = set()
        self.port = 0
        #: Connections reset because their client wrote after they were severed.
        self.resets = 0
        self._lose: bytes | None = None
        #: Answers dropped by `lose_the_answer`.
        self.lost_answers = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in list(self._pipes):
            for task in pipe.tasks:
                task.cancel()
            pipe.client.close()
            pipe.server.close()
        await self._server.wait_closed()

    def sever_silently(self) -> None:
        for pipe in self._pipes:
            pipe.severed = True
            pipe.server.close()

    def lose_the_answer(self, containing: bytes) -> None:
        self._lose = containing

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._target)
        pipe = _Pipe(client_writer, server_writer)
        self._pipes.add(pipe)

        async def upstream() -> None:
            while data := await client_reader.read(65536):
                if pipe.severed:
                    self.resets += 1
                    client_writer.transport.abort()
                    return
                server_writer.write(data)
                await server_writer.drain()
            server_writer.close()

        async def downstream() -> None:
            with contextlib.suppress(ConnectionError):
                while data := await server_reader.read(65536):
                    if pipe.severed:
                        return
                    if self._lose is not None and self._lose in data:
                        self._lose = None
                        self.lost_answers += 1
                        pipe.severed = True
                        client_writer.transport.abort()
                        server_writer.close()
                        return
                    client_writer.write(data)
                    await client_writer.drain()
            if not pipe.severed:
                client_writer.close()

        pipe.tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        try:
            await asyncio.gather(*pipe.tasks, return_exceptions=True)
        finally:
            self._pipes.discard(pipe)
