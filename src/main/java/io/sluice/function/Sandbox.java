package io.sluice.function;

import java.io.InputStream;
import java.io.OutputStream;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotAccess;
import org.graalvm.polyglot.SandboxPolicy;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.io.IOAccess;

/**
 * How a function's JavaScript context is built: GraalJS under the {@code CONSTRAINED} sandbox policy with every
 * host privilege denied (no Java classes or objects, no files, sockets, processes, threads, native code, other
 * languages or environment variables), console output captured, and a prelude that removes the host-related globals
 * before user code runs.
 */
final class Sandbox {
    private Sandbox() {}

    /** {@link HostAccess#NONE}, also without mutable target mappings (which the CONSTRAINED policy requires). */
    private static final HostAccess NO_HOST_ACCESS =
            HostAccess.newBuilder(HostAccess.NONE).allowMutableTargetMappings().build();

    static final String PRELUDE_NAME = "sluice-prelude.js";

    /**
     * Evaluated first in every context. Returns {@code setup(contextJson, fetchRefusal)}, which checks that the user's
     * script defined {@code transform}, defines {@code fetch} (rejecting every call with {@code fetchRefusal} when it
     * is not null) and returns what the host calls: {@code run(eventJson, slot)}: JSON text in, JSON text (or null:
     * drop) out, a text starting with "!" when the returned value is not acceptable, or "?" when transform returned
     * a Promise; {@code drain()}: null, or JSON of the fetch calls started ({@code calls}: id, url, method, headers,
     * body) and the async results reached ({@code done}: [slot, encoded result or "?throw"]) since the last drain;
     * {@code settle(id, responseJson)} and {@code fail(id, message)} end a call; {@code rethrow(slot)} raises a
     * rejection; {@code forget()} drops what a batch left. Only JSON text and numbers cross the boundary, in both
     * directions: no host object, not even a callback, is ever visible to the script.
     */
    static final Source PRELUDE = Source.newBuilder("js", """
            (function () {
              'use strict';
              for (const name of ['Java', 'Packages', 'java', 'javafx', 'javax', 'com', 'org', 'edu', 'Polyglot',
                                  'load', 'loadWithNewGlobal', 'Graal']) {
                try { delete globalThis[name]; } catch (ignored) { /* not configurable: harmless without host access */ }
              }
              const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, isFrozen = Object.isFrozen,
                    keys = Object.keys, isArray = Array.isArray, PromiseOf = Promise, MapOf = Map, TypeErrorOf = TypeError;
              function deepFreeze(value) {
                if (value !== null && typeof value === 'object' && !isFrozen(value)) {
                  freeze(value);
                  for (const key of keys(value)) deepFreeze(value[key]);
                }
                return value;
              }
              function encode(result) {
                if (result === null || result === undefined) return null;
                if (typeof result !== 'object') {
                  return '!transform must return an object, an array of objects, null or undefined, not a ' + typeof result;
                }
                if (isArray(result)) {
                  for (let i = 0; i < result.length; i++) {
                    const event = result[i];
                    if (event === null || typeof event !== 'object' || isArray(event)) {
                      return '!element ' + i + ' of the returned array is not an object';
                    }
                  }
                }
                try {
                  return stringify(result);
                } catch (e) {
                  return '!the returned value cannot be converted to JSON: ' + e.message;
                }
              }
              function headersOf(map) {
                return freeze({
                  get(name) { const v = map[String(name).toLowerCase()]; return v === undefined ? null : v; },
                  has(name) { return map[String(name).toLowerCase()] !== undefined; },
                  forEach(fn) { for (const k of keys(map)) fn(map[k], k); }
                });
              }
              function responseOf(r) {
                const body = r.body;
                return freeze({
                  ok: r.status >= 200 && r.status < 300, status: r.status, url: r.url, headers: headersOf(r.headers),
                  text() { return PromiseOf.resolve(body); },
                  json() { return new PromiseOf((resolve) => resolve(parse(body))); }
                });
              }
              return function setup(contextJson, fetchRefusal) {
                if (typeof transform !== 'function') {
                  throw new TypeError('the script does not define function transform(event, context)');
                }
                const context = deepFreeze(parse(contextJson));
                const pending = new MapOf(), errors = new MapOf();
                let calls = [], done = [], lastId = 0;
                globalThis.fetch = function fetch(resource, init) {
                  return new PromiseOf((resolve, reject) => {
                    const options = init === undefined || init === null ? {} : init;
                    const headers = {};
                    if (options.headers) for (const k of keys(options.headers)) headers[k] = String(options.headers[k]);
                    const body = options.body === undefined || options.body === null ? null
                        : typeof options.body === 'string' ? options.body : stringify(options.body);
                    if (fetchRefusal !== null) { reject(new TypeErrorOf(fetchRefusal)); return; }
                    const id = ++lastId;
                    calls.push({ id, url: String(resource), method: String(options.method || 'GET').toUpperCase(),
                                 headers, body });
                    pending.set(id, { resolve, reject });
                  });
                };
                return freeze({
                  run(eventJson, slot) {
                    const result = transform(parse(eventJson), context);
                    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
                      result.then((value) => { done.push([slot, encode(value)]); },
                                  (error) => { errors.set(slot, error); done.push([slot, '?throw']); });
                      return '?';
                    }
                    return encode(result);
                  },
                  drain() {
                    if (calls.length === 0 && done.length === 0) return null;
                    const out = stringify({ calls, done });
                    calls = [];
                    done = [];
                    return out;
                  },
                  settle(id, responseJson) {
                    const call = pending.get(id);
                    if (call) { pending.delete(id); call.resolve(responseOf(parse(responseJson))); }
                  },
                  fail(id, message) {
                    const call = pending.get(id);
                    if (call) { pending.delete(id); call.reject(new TypeErrorOf('fetch failed: ' + message)); }
                  },
                  rethrow(slot) {
                    const error = errors.get(slot);
                    errors.delete(slot);
                    throw error;
                  },
                  forget() { pending.clear(); errors.clear(); calls = []; done = []; }
                });
              };
            })()
            """, PRELUDE_NAME).buildLiteral();

    /** One engine per {@link Functions}: contexts built on it share parsed and compiled code. */
    static Engine engine() {
        return Engine.newBuilder("js")
                .sandbox(SandboxPolicy.CONSTRAINED)
                .option("engine.WarnInterpreterOnly", "false")
                .out(OutputStream.nullOutputStream())
                .err(OutputStream.nullOutputStream())
                .build();
    }

    /** @param engine the shared engine, or null for a context with its own (one-off test runs) */
    static Context newContext(Engine engine, OutputStream console) {
        Context.Builder builder = Context.newBuilder("js")
                .sandbox(SandboxPolicy.CONSTRAINED)
                .allowHostAccess(NO_HOST_ACCESS)
                .allowHostClassLookup(className -> false)
                .allowHostClassLoading(false)
                .allowIO(IOAccess.NONE)
                .allowCreateThread(false)
                .allowCreateProcess(false)
                .allowNativeAccess(false)
                .allowPolyglotAccess(PolyglotAccess.NONE)
                .allowEnvironmentAccess(EnvironmentAccess.NONE)
                .allowInnerContextOptions(false)
                .option("js.load", "false")
                .option("js.graal-builtin", "false")
                .option("js.console", "true")
                .in(InputStream.nullInputStream())
                .out(console)
                .err(console);
        if (engine != null) {
            builder.engine(engine);
        } else {
            builder.option("engine.WarnInterpreterOnly", "false");
        }
        return builder.build();
    }
}
