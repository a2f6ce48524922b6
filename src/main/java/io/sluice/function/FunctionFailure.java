package io.sluice.function;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An input event the function failed on. {@code error} is the script's message with its line number
 * ({@code "TypeError: ... (line 7)"}), a rejected return value, or {@code "timed out after 1000 ms"}.
 */
public record FunctionFailure(ObjectNode event, String error) {}
