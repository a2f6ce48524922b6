package io.sluice.function;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * One trial run of a function ({@code sluice function test}, {@code POST /admin/functions/test}).
 *
 * @param output the events the function returned (empty: dropped), or null when it failed
 * @param logs   what it wrote with {@code console.log} and friends, line by line
 * @param error  null, or the error with its line number
 */
public record TestRun(List<ObjectNode> output, List<String> logs, String error) {

    /** {@code {"output": [...] | null, "logs": [...], "error": "..." | null}} */
    public ObjectNode toJson() {
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        if (output == null) result.putNull("output");
        else result.putArray("output").addAll(output);
        var lines = result.putArray("logs");
        logs.forEach(lines::add);
        if (error == null) result.putNull("error");
        else result.put("error", error);
        return result;
    }
}
