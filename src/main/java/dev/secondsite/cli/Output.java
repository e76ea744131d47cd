package dev.secondsite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Prints resources as pretty JSON (exactly what the API returned) or as an aligned table. */
final class Output {
    enum Format { json, table }

    /** A table column: its header and how to read the cell from a resource. */
    record Column(String header, Function<JsonNode, String> value) {
        /** A column read at a JSON pointer, e.g. {@code /properties/provisioningState}. */
        static Column at(String header, String pointer) {
            return new Column(header, node -> text(node.at(pointer)));
        }
    }

    private Output() {}

    static void print(PrintWriter out, Format format, JsonNode node, List<Column> columns) {
        if (format == Format.json) {
            out.println(pretty(node));
        } else {
            table(out, rows(node), columns);
        }
        out.flush();
    }

    static String pretty(JsonNode node) {
        try {
            return ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The resources of an answer: a list's "value", an array's items, or the one resource. */
    static List<JsonNode> rows(JsonNode node) {
        List<JsonNode> rows = new ArrayList<>();
        if (node == null || node.isNull() || node.isMissingNode()) {
            return rows;
        }
        JsonNode items = node.isArray() ? node : node.path("value");
        if (items.isArray() && (node.isArray() || !node.has("id"))) {
            items.forEach(rows::add);
        } else {
            rows.add(node);
        }
        return rows;
    }

    static void table(PrintWriter out, List<JsonNode> rows, List<Column> columns) {
        List<String[]> lines = new ArrayList<>();
        lines.add(columns.stream().map(Column::header).toArray(String[]::new));
        for (JsonNode row : rows) {
            lines.add(columns.stream().map(c -> c.value().apply(row)).map(v -> v == null ? "" : v).toArray(String[]::new));
        }
        int[] widths = new int[columns.size()];
        for (String[] line : lines) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        for (String[] line : lines) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                text.append(line[i]);
                if (i < line.length - 1) {
                    text.append(" ".repeat(widths[i] - line[i].length() + 2));
                }
            }
            out.println(text.toString().stripTrailing());
        }
    }

    /** A scalar's text; arrays are joined with ","; missing and null are empty. */
    static String text(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return "";
        }
        if (node.isArray()) {
            List<String> parts = new ArrayList<>();
            node.forEach(n -> parts.add(text(n)));
            return String.join(",", parts);
        }
        if (node.isObject()) {
            List<String> parts = new ArrayList<>();
            node.properties().forEach(e -> parts.add(e.getKey() + "=" + text(e.getValue())));
            return String.join(",", parts);
        }
        return node.asText();
    }

    /**
     * Checks a file a command is about to write before it asks the server for anything or writes a byte: its
     * directory must exist. Otherwise a usage error (exit 2) naming {@code what}, the file and the directory.
     */
    static void requireDirectoryOf(Path file, String what) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw CliException.usage("cannot write " + what + " " + file + ": directory " + dir + " does not exist");
        }
    }

    /** The resource group named in an ARM id, or "". */
    static String resourceGroup(JsonNode resource) {
        String[] parts = resource.path("id").asText("").split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equalsIgnoreCase("resourceGroups")) {
                return parts[i + 1];
            }
        }
        return "";
    }
}
