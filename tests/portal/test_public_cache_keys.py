"""The anonymous page cache is bounded (issue 21): keyed only by what the page reads, no
entry above a size, on a Redis database apart from Celery's broker, and that Redis bounded
in memory with an eviction policy that keeps the version counters."""

import uuid

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from portal.cache_redis import cache_redis_url, redis_database
from portal.embedded import CACHE_MAXMEMORY, EmbeddedRedis
from tests.institutions.helpers import make_institution, training_staff


@pytest.fixture
def cache_on(settings):
    """The cache on, under a key prefix of this test's own: its keys can be counted."""
    from portal.public_cache import _redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.PORTAL_PUBLIC_CACHE_SECONDS = 300
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    yield lambda: sorted(_redis().scan_iter(f"{prefix}:public:institutions:page:*"))
    keys = list(_redis().scan_iter(f"{prefix}:*"))
    if keys:
        _redis().delete(*keys)


@pytest.fixture
def institution(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_institution(training_staff(), world.school_a.district, name="博雅英语培训")


@pytest.mark.django_db
def test_an_unknown_parameter_is_dropped_from_the_key_and_the_page(
    institution, cache_on, client, django_assert_num_queries
):
    url = reverse("institutions:search")
    first = client.get(url, {"q": "博雅", "junk": "广告-ZZ-一"})
    assert "博雅英语培训" in first.content.decode()
    assert "ZZ" not in first.content.decode()  # nor in the page's own links
    assert len(cache_on()) == 1
    with django_assert_num_queries(0):
        second = client.get(url, {"q": "博雅", "junk": "other", "utm_source": "x"})
    assert second.content == first.content
    assert len(cache_on()) == 1
    # a parameter the page reads is part of the key
    client.get(url, {"q": "博雅", "page": "1"})
    assert len(cache_on()) == 2


@pytest.mark.django_db
def test_the_api_keys_its_filters_and_its_format_but_not_the_rest(
    institution, cache_on, client, django_assert_num_queries
):
    url = reverse("api-institutions")
    assert client.get(url, {"q": "博雅", "x": "1"}).json()["count"] == 1
    with django_assert_num_queries(0):
        assert client.get(url, {"q": "博雅", "x": "2"}).json()["count"] == 1
    # a browser gets DRF's HTML page: another entry, never served as the JSON
    html = client.get(url, {"q": "博雅"}, HTTP_ACCEPT="text/html")
    assert html["Content-Type"].startswith("text/html")
    assert len(cache_on()) == 2
    assert client.get(url, {"q": "博雅"})["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_path_spelled_with_leading_zeros_is_the_same_entry(
    institution, cache_on, client, django_assert_num_queries
):
    assert client.get(f"/institutions/{institution.pk}/").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"/institutions/000{institution.pk}/?a=1").status_code == 200
    assert len(cache_on()) == 1


@pytest.mark.django_db
def test_a_page_over_the_size_bound_is_served_but_not_cached(
    institution, cache_on, client, settings, django_assert_max_num_queries
):
    url = reverse("institutions:search")
    size = len(client.get(url, {"q": "博雅"}).content)
    assert len(cache_on()) == 1
    settings.PORTAL_PUBLIC_CACHE_MAX_BYTES = size - 1  # the pickled page is larger still
    response = client.get(url, {"q": "博雅", "page": "1"})
    assert response.status_code == 200 and "博雅英语培训" in response.content.decode()
    assert len(cache_on()) == 1
    # and it is made again every time
    with django_assert_max_num_queries(100) as queries:
        client.get(url, {"q": "博雅", "page": "1"})
    assert len(queries) > 0


def test_every_cached_view_declares_the_parameters_it_reads():
    from django.urls import get_resolver

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern.callback

    cached = [view for view in walk(get_resolver().url_patterns) if hasattr(view, "cache_params")]
    assert len(cached) >= 3  # search, detail, the API
    assert all(isinstance(view.cache_params, tuple) for view in cached)


# --- the cache's Redis apart from the broker's ----------------------------------------------


def test_the_cache_and_the_broker_use_different_redis_databases():
    cache = redis_database(django_settings.PORTAL_CACHE_REDIS_URL)
    broker = redis_database(django_settings.CELERY_BROKER_URL)
    assert cache != broker
    assert django_settings.CACHES["default"]["LOCATION"] == django_settings.PORTAL_CACHE_REDIS_URL
    from portal.public_cache import _redis

    kwargs = _redis().connection_pool.connection_kwargs
    assert kwargs.get("db", 0) == cache[1]
    assert django_settings.CELERY_RESULT_BACKEND == django_settings.CELERY_BROKER_URL


@pytest.mark.parametrize(
    ("redis_url", "cache_url", "expected"),
    [
        ("redis://redis:6379/0", None, "redis://redis:6379/1"),
        ("redis://redis:6379", None, "redis://redis:6379/1"),
        ("rediss://:pw@redis:6380/4", None, "rediss://:pw@redis:6380/5"),
        ("redis+socket:///var/r.sock", None, "unix:///var/r.sock?db=1"),
        ("unix:///var/r.sock?db=2", None, "unix:///var/r.sock?db=3"),
        ("redis://redis:6379/0", "redis://redis-cache:6379/0", "redis://redis-cache:6379/0"),
        ("redis://redis:6379/0", "redis+socket:///c.sock", "unix:///c.sock"),
    ],
)
def test_the_cache_url_is_given_or_the_next_database(redis_url, cache_url, expected):
    assert cache_redis_url(redis_url, cache_url) == expected
    assert redis_database(expected) != redis_database(redis_url)


def test_the_last_database_asks_for_a_cache_url():
    with pytest.raises(ImproperlyConfigured, match="PORTAL_CACHE_REDIS_URL"):
        cache_redis_url("redis://redis:6379/15")
    with pytest.raises(ImproperlyConfigured):
        cache_redis_url("redis://redis:6379/cache")


def test_the_embedded_cache_server_is_bounded_and_keeps_the_version_counters(tmp_path):
    import redis

    server = EmbeddedRedis(tmp_path / "redis-cache", cache=True)
    url = server.start()
    try:
        client = redis.Redis.from_url(cache_redis_url("redis://unused:6379/0", url))
        config = client.config_get("maxmemory*")
        assert config["maxmemory-policy"] == "volatile-lru"
        assert int(config["maxmemory"]) == 64 * 1024 * 1024 == int(CACHE_MAXMEMORY[:-2]) << 20
        assert client.config_get("save")["save"] == ""  # a cache starts empty
    finally:
        server.stop()
    assert not server.socket_path.exists() or not server._alive()


@pytest.mark.django_db
def test_a_cache_outage_serves_the_page_uncached(
    institution, cache_on, client, monkeypatch, django_capture_on_commit_callbacks
):
    import redis

    from portal import public_cache

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    monkeypatch.setattr(public_cache, "_redis", lambda: dead)
    response = client.get(reverse("institutions:search"), {"q": "博雅"})
    assert response.status_code == 200 and "博雅英语培训" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        public_cache.bump("institutions")  # a committed change: logged, not raised
    assert len(callbacks) == 1
