import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Patient data must never reach a log line: the redaction paths cover the places request
 * data could carry it, and callers log identifiers and outcomes, never payloads.
 */
export function createLogger(name: string): Logger {
  return pino({
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: name },
    redact: {
      paths: ['*.patient', '*.nhsNumber', '*.body', '*.authorization', '*.headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
