# Yinzunda web, worker and beat image (docker-compose.yml runs all three from it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: compilemessages turns locale/*.po into .mo at start-up (catalogues are not committed compiled);
# Pango and a CJK font: WeasyPrint renders the evidence PDF and the waybill labels and embeds the font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first so a code change does not reinstall them.
COPY pyproject.toml ./
COPY yinzunda/__init__.py yinzunda/__init__.py
COPY carriers/__init__.py carriers/__init__.py
COPY orders/__init__.py orders/__init__.py
COPY waybills/__init__.py waybills/__init__.py
COPY claims/__init__.py claims/__init__.py
RUN pip install .

COPY . .
# Editable, so BASE_DIR (templates/, static/, locale/) is /app and not site-packages.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 1000 yinzunda \
    && mkdir -p /app/staticfiles /app/media /app/private-media \
    && chown -R yinzunda:yinzunda /app

USER yinzunda

ENV DJANGO_SETTINGS_MODULE=yinzunda.settings.production \
    PYTHONPATH=/app \
    MEDIA_ROOT=/app/media \
    PRIVATE_MEDIA_ROOT=/app/private-media

EXPOSE 8000

# Threaded workers: long exports stream to the end (yinzunda/gunicorn.py).
CMD ["gunicorn", "-c", "python:yinzunda.gunicorn", "yinzunda.wsgi"]
