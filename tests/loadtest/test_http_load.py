"""The HTTP load generator of bench_queue_http: the open loop keeps to its schedule and
times each request from when it was due; percentiles are nearest-rank."""

from __future__ import annotations

import asyncio

import pytest

from loadtest.bench_queue_kit.http_load import LoadPlan, _run, percentile, request_bytes

ANSWER = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}"


async def _answer_every_request(reader: asyncio.StreamReader,
                                writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def test_the_open_loop_sends_no_more_than_its_schedule_and_times_every_answer() -> None:
    server = await asyncio.start_server(_answer_every_request, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    plan = LoadPlan("127.0.0.1", port, "/", seconds=0.5, connections=4, rate_per_s=100)
    async with server:
        result = await _run(plan, [request_bytes("127.0.0.1", port, "/join")])
    # Connection c's k-th request is due at c/100 + k*4/100 s: 51 due times before 0.5 s.
    scheduled = sum(1 for c in range(4) for k in range(100) if c / 100 + k * 4 / 100 < 0.5)
    assert result.other == 0
    assert 0 < result.ok <= scheduled  # whatever the server's speed
    assert len(result.latencies_s) == result.ok
    assert all(latency >= 0 for latency in result.latencies_s)


async def test_the_closed_loop_records_no_latencies() -> None:
    server = await asyncio.start_server(_answer_every_request, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    plan = LoadPlan("127.0.0.1", port, "/", seconds=0.1, connections=2)
    async with server:
        result = await _run(plan, [request_bytes("127.0.0.1", port, "/join")])
    assert result.ok > 0 and result.latencies_s == []


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        50.0, 99.0, 100.0)
    assert percentile([3.0], 0.99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 0.5)
