"""The test suite's own hygiene (issue item 9): each pytest process — each pytest-xdist
worker, each of two runs on one machine — keeps its broker and cache keys under its own
Redis prefix and its files in its own temporary folder, and cleans up only those."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from kombu import Connection

from tests.conftest import delete_keys_with_prefix, delete_this_process_keys

PREFIX = settings.TEST_REDIS_PREFIX


@pytest.fixture
def raw_redis():
    """A plain connection to the test Redis: sees every key, whoever wrote it."""
    with redis.Redis.from_url(settings.TEST_REDIS_URL) as client:
        yield client


def test_the_namespace_belongs_to_this_process():
    assert PREFIX == f"usdoctors-test-{os.getpid()}:"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"].startswith(PREFIX)
    assert settings.CACHES["default"]["KEY_PREFIX"].startswith(PREFIX)
    assert settings.CACHES["default"]["KEY_FUNCTION"] == "usdoctors.tenancy.cache_key"
    assert str(os.getpid()) in settings.DATABASES["default"]["TEST"]["NAME"]


def test_cache_keys_under_two_prefixes_do_not_see_each_other(raw_redis):
    key = f"isolation-{uuid.uuid4().hex}"
    other_prefix = f"usdoctors-test-other-{uuid.uuid4().hex}:cache"
    other = RedisCache(
        settings.TEST_REDIS_URL,
        {"KEY_PREFIX": other_prefix, "KEY_FUNCTION": "usdoctors.tenancy.cache_key"},
    )
    try:
        cache.set(key, "ours", 60)
        other.set(key, "theirs", 60)

        assert cache.get(key) == "ours"
        assert other.get(key) == "theirs"
        # In Redis itself, not this process's memory: under our prefix, and theirs apart.
        ours_in_redis = [k.decode() for k in raw_redis.scan_iter(match=f"*{key}")]
        assert sorted(ours_in_redis) == sorted([cache.make_key(key), other.make_key(key)])
        assert cache.make_key(key).startswith(PREFIX)

        cache.delete(key)
        assert other.get(key) == "theirs"
    finally:
        cache.delete(key)
        other.delete(key)


def test_broker_messages_under_two_prefixes_do_not_see_each_other():
    raw_redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = f"isolation-{uuid.uuid4().hex}"
    other_prefix = f"usdoctors-test-other-{uuid.uuid4().hex}:celery:"
    ours = Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    )
    theirs = Connection(
        settings.CELERY_BROKER_URL, transport_options={"global_keyprefix": other_prefix}
    )
    try:
        with ours.SimpleQueue(queue) as our_queue:
            our_queue.put({"from": "us"})
        # The message list sits under our prefix, nowhere else.
        assert (
            raw_redis.llen(f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}{queue}")
            == 1
        )
        assert not raw_redis.exists(queue)

        # (Not qsize(): its passive declare asks Redis EXISTS, which kombu's prefixing
        # leaves out, so it would look for the unprefixed key.)
        with theirs.SimpleQueue(queue) as their_queue:
            with pytest.raises(their_queue.Empty):
                their_queue.get(block=False)
        with ours.SimpleQueue(queue) as our_queue:
            message = our_queue.get(timeout=5)
            assert message.payload == {"from": "us"}
            message.ack()
    finally:
        for connection in (ours, theirs):
            with connection.SimpleQueue(queue) as leftover:
                leftover.clear()
            connection.release()
        delete_keys_with_prefix(raw_redis, other_prefix)
        raw_redis.close()


def test_cleanup_deletes_only_this_process_keys(raw_redis):
    token = uuid.uuid4().hex
    ours = [f"{PREFIX}celery:{token}", f"{PREFIX}cache:1:org-:{token}"]
    foreign = [
        f"usdoctors-test-{os.getpid()}0:{token}",  # another process whose id starts like ours
        f"usdoctors-test-{os.getpid()}{token}",  # our prefix without its closing colon
        f"{token}:{PREFIX}",
        f"unacked_index-{token}",  # a real worker's unprefixed keys
    ]
    for key in ours + foreign:
        raw_redis.set(key, "1", ex=300)
    try:
        assert delete_this_process_keys() >= len(ours)

        assert [key for key in ours if raw_redis.exists(key)] == []
        assert [key for key in foreign if raw_redis.exists(key)] == foreign
    finally:
        raw_redis.delete(*ours, *foreign)


def test_cleanup_takes_glob_characters_in_a_prefix_literally(raw_redis):
    token = uuid.uuid4().hex
    prefix = f"{PREFIX}{token}:x[1]*?\\:"
    ours = [f"{prefix}a", f"{prefix}b"]
    # Each would match if the prefix were used as a glob pattern unescaped.
    lookalikes = [f"{PREFIX}{token}:x1zz\\:a", f"{PREFIX}{token}:x1anything:a"]
    for key in ours + lookalikes:
        raw_redis.set(key, "1", ex=300)
    try:
        assert delete_keys_with_prefix(raw_redis, prefix) == 2
        assert [key for key in lookalikes if raw_redis.exists(key)] == lookalikes
    finally:
        raw_redis.delete(*ours, *lookalikes)


def test_cleanup_refuses_an_empty_prefix(raw_redis):
    with pytest.raises(ValueError):
        delete_keys_with_prefix(raw_redis, "")


def test_uploads_go_to_this_process_temporary_folder():
    var_dir = Path(settings.TEST_VAR_DIR)
    assert settings.VAR_DIR == var_dir
    assert var_dir.is_dir()
    assert var_dir.name.startswith(f"usdoctors-test-{os.getpid()}-")
    assert Path(settings.STATIC_ROOT).is_relative_to(var_dir)

    name = default_storage.save(f"isolation/{uuid.uuid4().hex}.pdf", ContentFile(b"%PDF-1.4\n"))
    try:
        assert Path(default_storage.path(name)).is_relative_to(var_dir / "private")
    finally:
        default_storage.delete(name)


def test_the_temporary_folder_is_removed_when_the_process_exits():
    """Another process importing the test settings gets a folder of its own, gone once it
    exits."""
    script = (
        "import os, tests.settings as s; assert os.path.isdir(s.TEST_VAR_DIR); "
        "print(s.TEST_VAR_DIR)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "USDOCTORS_VAR_DIR": settings.TEST_VAR_DIR,
        },  # as an xdist worker inherits it
    )
    assert result.returncode == 0, result.stderr
    theirs = result.stdout.strip()
    assert theirs != settings.TEST_VAR_DIR
    assert not os.path.exists(theirs)
