"""The suite's Redis clean-up removes its own accounts' keys and nobody else's."""

from __future__ import annotations

from core.redis_client import RedisClient
from core.redis_keys import RateKey, account_revocations, email_change_pending
from tests.support.owned_keys import forget_accounts_sync


async def test_forgetting_accounts_takes_their_keys_and_counters_only(
    redis: RedisClient, redis_url: str,
) -> None:
    mine, other = 987_000_001, 987_000_002
    owned = [account_revocations(mine), email_change_pending(mine),
             RateKey("verify-resend", str(mine)).window(3),
             RateKey("email-change", str(mine)).window(4)]
    kept = [account_revocations(other), RateKey("verify-resend", str(other)).window(3),
            # Same digits, but not an account-id limit: an address or a device is not ours.
            RateKey("signin-ip", str(mine)).window(3), "unrelated:987000001"]
    for key in owned + kept:
        await redis.set(key, "1")
    try:
        assert forget_accounts_sync(redis_url, [mine]) == len(owned)
        assert [key for key in owned if await redis.exists(key)] == []
        assert [key for key in kept if not await redis.exists(key)] == []
    finally:
        await redis.delete(*kept)
