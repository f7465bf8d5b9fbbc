"""gunicorn's settings for the clinic (`make serve`), from environment variables.

gunicorn reads this file from the directory it starts in, so `gunicorn clinic.wsgi` run from the project's folder
uses it too. Django's own settings come from the environment as always (clinic/settings.py).
"""

import multiprocessing
import os


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Worker processes: gunicorn's usual 2 × cores + 1, at most 12 (each holds its own database connection).
workers = _number("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 12))
# Threads per worker: above 1, a worker keeps answering while another request waits on the database.
threads = _number("WEB_THREADS", 1)
# Where to listen; `make serve` passes HOST:PORT. Behind the TLS proxy, on the machine's own address only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# A request that takes longer than this is stuck: the worker is replaced (pages answer in milliseconds).
timeout = _number("WEB_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
# A fresh process now and then, so slow growth in memory never builds up.
max_requests = 2000
max_requests_jitter = 200
# gunicorn's access log is off: the web server in front keeps one. Errors go to the console, as Django's do.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
