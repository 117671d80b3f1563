#!/usr/bin/env python3
"""A small TCP forwarder for the network-partition scenario (not a test).

Usage: tcp_forward.py LISTEN_HOST:PORT=TARGET_HOST:PORT [...]

Listens on each LISTEN address and pipes every connection, both ways, to a
new connection to its TARGET. A connection whose target cannot be reached is
closed at once. Prints "ready" on stdout once every listener is bound, and
runs until killed (SIGTERM).
"""
import asyncio
import sys


def address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def handler(target):
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
    return handle


async def main(pairs):
    servers = []
    for pair in pairs:
        listen, _, target = pair.partition("=")
        host, port = address(listen)
        servers.append(await asyncio.start_server(handler(address(target)), host, port, reuse_address=True))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1:]))
