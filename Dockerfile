# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

# DEBUG is off by default anyway; said here so the image never depends on it.
ENV DEBUG=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=true python manage.py compile_translations \
    && useradd --system --home /app followup \
    && mkdir -p /app/var \
    && chown -R followup /app/var
USER followup
EXPOSE 8000
CMD ["gunicorn", "followup.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--logger-class", "followup.logs.GunicornLogger"]
