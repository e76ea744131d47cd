package dev.secondsite.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.Json;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** Small helpers for API tests: JSON bodies, ARM error assertions and bounded polling. */
public final class Arm {
    private static final Set<String> ERROR_FIELDS = Set.of("code", "message", "target", "details", "innererror",
            "additionalInfo");

    private Arm() {}

    public static JsonNode json(HttpResponse<String> response) {
        assertThat(response.body()).as("response body of %s", response.uri()).isNotBlank();
        try {
            return Json.MAPPER.readTree(response.body());
        } catch (Exception e) {
            throw new AssertionError("response of " + response.uri() + " is not JSON: " + response.body(), e);
        }
    }

    public static ObjectNode object(String json) {
        return (ObjectNode) Json.parse(json);
    }

    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Asserts the status, and that the body is exactly an ARM error body with this code; returns the error node. */
    public static JsonNode assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as("status of %s %s: %s", response.request().method(), response.uri(),
                response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).as("content type")
                .startsWith("application/json");
        JsonNode root = json(response);
        assertErrorShape(root, response.body());
        assertThat(root.path("error").path("code").asText()).as("error code in %s", response.body()).isEqualTo(code);
        return root.path("error");
    }

    /** {"error":{"code","message","details":[...]}} and nothing else; no stack trace anywhere. */
    public static void assertErrorShape(JsonNode root, String raw) {
        assertThat(root.isObject()).as("error body is an object: %s", raw).isTrue();
        assertThat(fieldNames(root)).as("top-level fields of %s", raw).containsExactly("error");
        JsonNode error = root.path("error");
        assertErrorNode(error, raw);
        assertThat(raw).as("error body must not leak internals")
                .doesNotContain("Exception", "\tat ", "at dev.secondsite", "at java.", "org.jdbi", "org.h2",
                        "org.postgresql", "SQL");
    }

    private static void assertErrorNode(JsonNode error, String raw) {
        assertThat(error.isObject()).as("error is an object: %s", raw).isTrue();
        assertThat(ERROR_FIELDS).as("error fields of %s", raw).containsAll(fieldNames(error));
        assertThat(error.path("code").isTextual()).as("error.code is text: %s", raw).isTrue();
        assertThat(error.path("code").asText()).as("error.code: %s", raw).matches("[A-Za-z][A-Za-z0-9]+");
        assertThat(error.path("message").isTextual()).as("error.message is text: %s", raw).isTrue();
        assertThat(error.path("message").asText()).as("error.message: %s", raw).isNotBlank();
        assertThat(error.path("details").isArray()).as("error.details is an array: %s", raw).isTrue();
        if (error.has("target")) {
            assertThat(error.path("target").isTextual()).as("error.target is text: %s", raw).isTrue();
        }
        for (JsonNode detail : error.path("details")) {
            assertErrorNode(detail, raw);
        }
    }

    public static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    /** Asserts the error names the field, in its target or its message. */
    public static void assertNamesField(JsonNode error, String field) {
        String target = error.path("target").asText("");
        String message = error.path("message").asText("");
        assertThat(target.equals(field) || message.contains(field))
                .as("error %s should name field '%s' in its target or message", error, field).isTrue();
    }

    /** Polls until the probe's value satisfies done, or fails after the timeout with the last value seen. */
    public static <T> T await(String what, Duration timeout, Duration every, Callable<T> probe, Predicate<T> done)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        Exception lastError = null;
        while (true) {
            try {
                last = probe.call();
                lastError = null;
                if (last != null && done.test(last)) {
                    return last;
                }
            } catch (Exception e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError failure = new AssertionError("timed out after " + timeout + " waiting for " + what
                        + "; last value: " + last);
                if (lastError != null) {
                    failure.addSuppressed(lastError);
                }
                throw failure;
            }
            Thread.sleep(every.toMillis());
        }
    }
}
