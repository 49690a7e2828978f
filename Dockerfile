# The portal's one image: docker-compose.yml runs migrate, web (gunicorn), worker and beat
# (Celery) from it. Static files are collected at build time into /app/staticfiles, where
# whitenoise serves them from at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    PORTAL_PRODUCTION=true \
    PORTAL_STATIC_ROOT=/app/staticfiles

WORKDIR /app

# A fixed uid, so a host file (the secret) can be given to it by number.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# The settings refuse to load in production without a secret key and allowed hosts: this
# throwaway key exists only for this one command and is not kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
