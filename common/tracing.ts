/**
 * Traces across processes, as Apollo Router and Hive Gateway emit them: W3C `traceparent` from the client through the
 * gateway, the subgraphs and every supplier call, with a span for the gateway request, each subgraph fetch of the plan,
 * each subgraph operation and each supplier HTTP call. Exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set; otherwise nothing is recorded or sent (the API's no-op tracer), and the cost is a few function calls.
 *
 * Attributes hold what operators need and never patient data: system ids, HTTP methods and statuses, outcome codes,
 * subgraph names. No URLs with queries, no variables, no bodies.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export { SpanKind };

let provider: BasicTracerProvider | undefined;

/** Starts exporting this process's spans when an OTLP endpoint is configured; returns the flush-and-stop. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): () => Promise<void> {
  // Propagation works with or without export: a process that records nothing still passes the client's trace on.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const contextManager = new AsyncLocalStorageContextManager();
  context.setGlobalContextManager(contextManager.enable());
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined);
  if (!endpoint || provider) return async () => {};
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: 500 })],
  });
  trace.setGlobalTracerProvider(provider);
  return async () => {
    await provider?.shutdown();
  };
}

const tracer = () => trace.getTracer('nhs-booking-gateway');

/** The context a request carries in, from its `traceparent` header (or a fresh root). */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers, {
    get: (h, key) => h[key],
    keys: (h) => Object.keys(h),
  });
}

/** Headers carrying the active trace to the next process (`traceparent`, `tracestate`). */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  return out;
}

/**
 * Runs `fn` inside a new span (a child of the active one, or of `parent`), ending it when `fn` settles; a thrown error
 * marks the span failed with the error's name only (messages can echo input).
 */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Serves one incoming HTTP request inside a SERVER span continuing the caller's trace (its `traceparent`), ended
 * when the response is done, with the status code.
 */
export function traceHttpRequest(
  req: { headers: Record<string, string | string[] | undefined>; method?: string | undefined },
  res: { once(event: 'close', listener: () => void): unknown; statusCode: number },
  name: string,
  attributes: Attributes,
  serve: () => void,
): void {
  const parent = extractContext(req.headers);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', ...attributes } }, parent);
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), serve);
}
