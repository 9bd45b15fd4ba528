"""Helpers of the version 2 manager tests: a node whose session is v2, and a
client whose connect and rooms busd has seen."""

import json

from socketbus_connector import frames as f

ACK_BASE = 1 << 52
REGISTRY = (f.SocketConnect, f.RoomsJoin, f.RoomsLeave, f.Namespace)

async def v2_node(make_node, fake, **options):
    node = await make_node(fake.path, **options)
    assert await node.manager.start(timeout=5)
    assert node.manager.protocol_version == 2
    assert await fake.next() == f.Namespace("/")  # the resync announces "/" at once
    return node


async def joined(node, fake, namespaces=None, **client_options):
    """A connected client, after its SOCKET_CONNECT and ROOMS_JOIN."""
    client = await node.client(namespaces=namespaces, **client_options)
    for ns in namespaces or ["/"]:
        connect = await fake.next(f.SocketConnect, skip=(f.Namespace,))
        assert connect.namespace in (namespaces or ["/"])
        join = await fake.next(f.RoomsJoin)
        assert join.socket_id == connect.socket_id
    return client


async def answer(fake, request):
    """The ANSWER to QUESTION `request`: its status and its JSON body."""
    frame = await fake.next(f.Answer)
    assert frame.request == request
    return frame.status, (json.loads(frame.body) if frame.body else None)
