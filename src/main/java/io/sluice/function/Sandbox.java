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
     * Evaluated first in every context. Returns {@code setup(contextJson)}, which checks that the user's script
     * defined {@code transform} and returns {@code run(eventJson)}: JSON text in, JSON text (or null: drop) out,
     * or a text starting with "!" when the returned value is not acceptable. Events cross the boundary only as
     * JSON text, so no host object is ever visible to the script.
     */
    static final Source PRELUDE = Source.newBuilder("js", """
            (function () {
              'use strict';
              for (const name of ['Java', 'Packages', 'java', 'javafx', 'javax', 'com', 'org', 'edu', 'Polyglot',
                                  'load', 'loadWithNewGlobal', 'Graal']) {
                try { delete globalThis[name]; } catch (ignored) { /* not configurable: harmless without host access */ }
              }
              const parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, isFrozen = Object.isFrozen,
                    keys = Object.keys, isArray = Array.isArray;
              function deepFreeze(value) {
                if (value !== null && typeof value === 'object' && !isFrozen(value)) {
                  freeze(value);
                  for (const key of keys(value)) deepFreeze(value[key]);
                }
                return value;
              }
              return function setup(contextJson) {
                if (typeof transform !== 'function') {
                  throw new TypeError('the script does not define function transform(event, context)');
                }
                const context = deepFreeze(parse(contextJson));
                return function run(eventJson) {
                  const result = transform(parse(eventJson), context);
                  if (result === null || result === undefined) return null;
                  if (typeof result !== 'object') {
                    return '!transform must return an object, an array of objects, null or undefined, not a ' + typeof result;
                  }
                  if (typeof result.then === 'function') {
                    return '!transform returned a Promise: it must return its result synchronously';
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
                };
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
