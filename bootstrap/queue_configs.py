"""The link between the catalogue (Postgres) and the waiting room (Redis only): the one place
a drop row becomes a queue_engine.DropConfig, and where that config is synced into Redis.

The catalogue and the waiting room are siblings that must not know each other, so the
mapping lives here, above both; the gateway (joins, publish, operator controls) and the
worker (admission) get their configs from these functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.drop_queue import (
    QueueSettings,
    event_queue_settings,
    live_direct_drops,
    queue_settings,
)
from core.clock import to_ms
from core.redis_client import RedisClient
from queue_engine.drop_config import DropConfig, sync_config

Sessionmaker = async_sessionmaker[AsyncSession]
ConfigLoader = Callable[[int], Awaitable[DropConfig]]
LiveConfigs = Callable[[datetime], Awaitable[list[DropConfig]]]


def drop_config(settings: QueueSettings) -> DropConfig:
    return DropConfig(
        drop_id=settings.drop_id, prequeue_opens_at_ms=to_ms(settings.prequeue_opens_at),
        opens_at_ms=to_ms(settings.opens_at), closes_at_ms=to_ms(settings.closes_at),
        admit_per_minute=settings.admit_per_minute, max_active=settings.max_active,
        session_seconds=settings.session_seconds, state=settings.state,
        visible=settings.visible, mode=settings.mode,
        verified_only=settings.requires_verified_email,
        challenge_difficulty=settings.challenge_difficulty,
        join_limit_per_ip=settings.join_limit_per_ip,
        join_limit_per_network=settings.join_limit_per_network,
    )


async def load_drop_config(sessionmaker: Sessionmaker, drop_id: int) -> DropConfig:
    """Any existing drop's config (NotFound if none); the waiting room itself refuses
    fans a drop they may not see, or a lottery drop, from the synced meta."""
    async with sessionmaker() as session:
        return drop_config(await queue_settings(session, drop_id))


async def live_drop_configs(sessionmaker: Sessionmaker, now: datetime) -> list[DropConfig]:
    """The configs the admission worker ticks (catalog.drop_queue.live_direct_drops)."""
    async with sessionmaker() as session:
        return [drop_config(settings) for settings in await live_direct_drops(session, now)]


def config_loader(sessionmaker: Sessionmaker) -> ConfigLoader:
    """`load_drop_config` bound to a sessionmaker, as queue_engine.waiting_room.join takes it."""

    async def load(drop_id: int) -> DropConfig:
        return await load_drop_config(sessionmaker, drop_id)

    return load


def live_configs(sessionmaker: Sessionmaker) -> LiveConfigs:
    """`live_drop_configs` bound to a sessionmaker, as queue_engine.jobs.admission_loop takes it."""

    async def live(now: datetime) -> list[DropConfig]:
        return await live_drop_configs(sessionmaker, now)

    return live


async def sync_drop(redis: RedisClient, sessionmaker: Sessionmaker, drop_id: int) -> DropConfig:
    """Mirror a drop's config into Redis now (after an operator's change)."""
    config = await load_drop_config(sessionmaker, drop_id)
    await sync_config(redis, config)
    return config


async def sync_event_drops(redis: RedisClient, sessionmaker: Sessionmaker, event_id: int) -> None:
    """Mirror every drop of an event into Redis now: publishing must open its drops to fans
    at once, not on the worker's next tick."""
    async with sessionmaker() as session:
        configs = [drop_config(settings) for settings in await event_queue_settings(session,
                                                                                     event_id)]
    for config in configs:
        await sync_config(redis, config)
