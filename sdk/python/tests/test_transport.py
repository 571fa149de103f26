"""The stdio transport under pipelining: more requests in flight than the provider and the two
pipes can hold must neither deadlock nor lose a reply."""

from __future__ import annotations

import threading

from credplane.runtime import Client

from conftest import provider_argv


def test_thousands_of_pipelined_requests_all_settle() -> None:
    # ~3,000 requests of ~1 KB overflow both 64 KB pipes and the provider's bounded queues: a
    # writer that held the reply lock while blocked on stdin used to hang here for ever.
    client = Client(provider_argv())
    news = {"secret_name": "t/pipe", "version_id": "v1", "secret_data": "x", "description": "d" * 900}
    futures = []

    def send_all() -> None:
        for _ in range(3000):
            futures.append(client.send("check", {"type": "alicloud_kms_secret", "news": news}))

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    sender.join(timeout=120)
    try:
        assert not sender.is_alive(), "sending blocked: the transport deadlocked"
        assert len(futures) == 3000
        assert all(f.result(timeout=120)["failures"] == [] for f in futures)
    finally:
        client.close()
