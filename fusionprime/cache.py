"""Django's Redis cache, reusing one client per connection pool.

Django builds a new `redis.Redis` for every cache call, and redis-py's constructor registers
hundreds of response callbacks each time — on the API's hot path (rate limit, publisher kick) that
cost more than the Redis round trips themselves. A client is thread-safe over its pool.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient

    # Atomic, and one round trip: Django's `add` + `incr` takes three (its `incr` asks EXISTS first).
    _INCR_WINDOW = (
        "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
    )
    _incr_window_script = None

    def incr_window(self, key: str, timeout: int) -> int:
        """Counts one more hit on `key`, which expires `timeout` seconds after its first hit."""
        key = self.make_and_validate_key(key)
        if self._incr_window_script is None:
            self._incr_window_script = self._cache.get_client(key, write=True).register_script(self._INCR_WINDOW)
        return self._incr_window_script(keys=[key], args=[timeout])
