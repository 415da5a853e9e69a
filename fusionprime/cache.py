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
