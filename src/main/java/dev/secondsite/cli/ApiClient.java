package dev.secondsite.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.Causes;
import dev.secondsite.tls.TlsMaterial;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * The CLI's connection to a SecondSite server: HTTPS trusting the profile's CA, a bearer token (fetched
 * once, kept in memory only), ARM calls with error mapping, and waiting for long-running operations.
 * Every failure leaves as a {@link CliException} carrying the exit code.
 */
final class ApiClient implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration MIN_POLL = Duration.ofSeconds(1);
    private static final Duration MAX_POLL = Duration.ofSeconds(60);

    /** One HTTP answer: status, headers we need, and the body as JSON (null when empty or not JSON). */
    record Response(int status, java.net.http.HttpHeaders headers, JsonNode body) {
        Optional<String> header(String name) {
            return headers.firstValue(name);
        }
    }

    /** What became of a mutating call: {@code pending} when it still runs as job {@code jobId} (--no-wait). */
    record Submitted(String jobId, boolean pending) {}

    private final Profile profile;
    private final URI server;
    private final PrintWriter err;
    private final HttpClient http;
    private String token;

    ApiClient(Profile profile, PrintWriter err) {
        this.profile = profile;
        this.server = serverUri(profile.server());
        this.err = err;
        this.http = httpClient(server, profile.caFile());
    }

    /** A client for the saved profile; exit code 4 when there is none. */
    static ApiClient fromProfile(PrintWriter err) {
        return new ApiClient(Profile.load(), err);
    }

    Profile profile() {
        return profile;
    }

    /** The subscription of a command: its --subscription, else the profile's default. */
    String subscription(String option) {
        return option != null && !option.isBlank() ? option : profile.subscriptionOrDefault();
    }

    // ---- tokens ----

    /** A bearer token for the profile's credentials; rejected credentials mean "log in again" (exit 4). */
    String token() {
        if (token == null) {
            try {
                token = requestToken();
            } catch (CliException e) {
                if (e.exitCode() != CliException.API_ERROR) {
                    throw e;
                }
                throw CliException.notLoggedIn("the saved credentials were rejected (" + e.getMessage()
                        + "): run `secondsite login`");
            }
        }
        return token;
    }

    /** Asks the token endpoint for a client-credentials token; a refusal is an API error (exit 1). */
    String requestToken() {
        String form = "grant_type=client_credentials&client_id=" + enc(profile.clientId())
                + "&client_secret=" + enc(profile.clientSecret())
                + "&scope=" + enc("https://management.azure.com/.default");
        HttpRequest request = HttpRequest.newBuilder(server.resolve("/" + seg(profile.tenantId()) + "/oauth2/v2.0/token"))
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        HttpResponse<String> response = exchange(request);
        JsonNode body = parse(response.body());
        if (response.statusCode() != 200 || body == null || !body.path("access_token").isTextual()) {
            throw error(response.statusCode(), response.body());
        }
        return body.path("access_token").asText();
    }

    /** The tenant id ("tid" claim) of a token, if it carries one. */
    static Optional<String> tenantOf(String jwt) {
        String[] parts = jwt.split("\\.");
        if (parts.length < 2) {
            return Optional.empty();
        }
        try {
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            return Optional.ofNullable(claims.path("tid").textValue());
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    // ---- ARM calls ----

    JsonNode get(String path) {
        return send("GET", path, null).body();
    }

    /** GET of a collection, following nextLink; the answer is one {"value": [...]} list. */
    JsonNode list(String path) {
        ObjectNode all = JSON.createObjectNode();
        ArrayNode value = all.putArray("value");
        String next = path;
        while (next != null) {
            JsonNode page = get(next);
            if (page == null) {
                break;
            }
            page.path("value").forEach(value::add);
            next = page.path("nextLink").textValue();
        }
        return all;
    }

    /** One ARM call; 4xx/5xx answers become {@code secondsite: <code>: <message>} with exit code 1. */
    Response send(String method, String pathOrUrl, JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(pathOrUrl))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token())
                .header("Accept", "application/json")
                .header("User-Agent", "secondsite-cli");
        if (body != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(write(body)));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response = exchange(request.build());
        if (response.statusCode() >= 400) {
            throw error(response.statusCode(), response.body());
        }
        return new Response(response.statusCode(), response.headers(), parse(response.body()));
    }

    /**
     * A mutating call (PUT, PATCH, POST action, DELETE). A 202 answer is a long-running operation: with
     * {@code noWait} its job id is returned at once; otherwise this polls it (progress on stderr) until it
     * ends, and throws if it ended Failed or Canceled.
     */
    Submitted submit(String method, String path, JsonNode body, boolean noWait) {
        Response response = send(method, path, body);
        if (response.status() != 202) {
            return new Submitted(null, false);
        }
        Optional<String> async = response.header("Azure-AsyncOperation");
        Optional<String> location = response.header("Location");
        Optional<String> pollUrl = async.or(() -> location);
        if (pollUrl.isEmpty()) {
            return new Submitted(null, false);
        }
        String jobId = lastSegment(pollUrl.get());
        if (noWait) {
            return new Submitted(jobId, true);
        }
        Progress progress = new Progress(err, label(pollUrl.get(), jobId));
        progress.update("InProgress");
        try {
            Duration interval = retryAfter(response);
            while (true) {
                sleep(interval);
                if (async.isPresent()) {
                    Response poll = send("GET", async.get(), null);
                    JsonNode status = poll.body() == null ? JSON.createObjectNode() : poll.body();
                    String state = status.path("status").asText("InProgress");
                    progress.update(state);
                    switch (state.toLowerCase(Locale.ROOT)) {
                        case "succeeded" -> {
                            return new Submitted(jobId, false);
                        }
                        case "failed", "canceled", "cancelled" -> {
                            JsonNode error = status.path("error");
                            throw CliException.api(error.path("code").asText("Operation" + state),
                                    error.path("message").asText("The operation ended " + state + "."));
                        }
                        default -> interval = retryAfter(poll);
                    }
                } else {
                    Response poll = send("GET", location.get(), null);
                    if (poll.status() != 202) {
                        progress.update("Succeeded");
                        return new Submitted(jobId, false);
                    }
                    progress.update("InProgress");
                    interval = retryAfter(poll);
                }
            }
        } finally {
            progress.finish();
        }
    }

    /** "Create replication policy 'p1'" from the operation's ASR job when there is one, else "Operation {id}". */
    private String label(String pollUrl, String jobId) {
        String path = uri(pollUrl).getRawPath();
        int at = path.indexOf("/replicationOperationStatus/");
        if (at < 0) {
            at = path.indexOf("/replicationOperationResults/");
        }
        if (at >= 0) {
            try {
                JsonNode job = get(path.substring(0, at) + "/replicationJobs/" + jobId + "?"
                        + uri(pollUrl).getRawQuery());
                String name = job.path("properties").path("friendlyName").asText("");
                String target = job.path("properties").path("targetObjectName").asText("");
                if (!name.isEmpty()) {
                    return target.isEmpty() ? name : name + " '" + target + "'";
                }
            } catch (CliException e) {
                // only a label: fall through
            }
        }
        return "Operation " + jobId;
    }

    static Duration retryAfter(Response response) {
        Duration wait = MIN_POLL;
        Optional<String> header = response.header("Retry-After");
        if (header.isPresent() && header.get().trim().matches("\\d{1,6}")) {
            wait = Duration.ofSeconds(Long.parseLong(header.get().trim()));
        }
        return wait.compareTo(MIN_POLL) < 0 ? MIN_POLL : wait.compareTo(MAX_POLL) > 0 ? MAX_POLL : wait;
    }

    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(130, "interrupted");
        }
    }

    static String lastSegment(String url) {
        String path = URI.create(url).getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    // ---- plumbing ----

    private HttpResponse<String> exchange(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw connectionFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(130, "interrupted");
        }
    }

    private CliException connectionFailure(IOException e) {
        String hint = "run `secondsite login --server URL` to use another server";
        SSLException ssl = Causes.find(e, SSLException.class).orElse(null);
        if (ssl != null) {
            String why = String.valueOf(ssl.getMessage()).contains("PKIX")
                    ? "its certificate is not signed by the CA in " + profile.caFile()
                    : ssl.getMessage() + "; CA file " + profile.caFile();
            return CliException.connection("TLS handshake with " + server + " failed: " + why
                    + ". Run `secondsite login --server URL --ca FILE` to change the server or the CA.");
        }
        if (e instanceof java.net.ConnectException) {
            return CliException.connection("cannot connect to " + server + ": connection refused; is the server "
                    + "running? (" + hint + ")");
        }
        if (e instanceof HttpTimeoutException && !(e instanceof HttpConnectTimeoutException)) {
            return CliException.connection("no answer from " + server + " within " + REQUEST_TIMEOUT.toSeconds()
                    + " s; is the server overloaded? (" + hint + ")");
        }
        return CliException.connection("cannot connect to " + server + " (" + describe(e)
                + "); is the server running? (" + hint + ")");
    }

    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return e.getClass().getSimpleName();
    }

    /** An error answer as an exception: ARM {"error":{code,message}} or OAuth {error, error_description}. */
    static CliException error(int status, String raw) {
        JsonNode body = parse(raw);
        JsonNode error = body == null ? null : body.path("error");
        if (error != null && error.isObject()) {
            return CliException.api(error.path("code").asText("HttpError" + status),
                    error.path("message").asText("the server answered HTTP " + status + "."));
        }
        if (error != null && error.isTextual()) {
            return CliException.api(error.asText(), body.path("error_description").asText("HTTP " + status));
        }
        String text = raw == null ? "" : raw.strip();
        return CliException.api("HttpError" + status, text.isEmpty() ? "the server answered HTTP " + status + "."
                : text.substring(0, Math.min(200, text.length())));
    }

    private URI uri(String pathOrUrl) {
        if (!pathOrUrl.startsWith("https://") && !pathOrUrl.startsWith("http://")) {
            return URI.create(server + pathOrUrl);
        }
        URI uri = URI.create(pathOrUrl);
        // The bearer token only ever goes to the server the profile names.
        if (!uri.getScheme().equalsIgnoreCase(server.getScheme()) || !uri.getHost().equalsIgnoreCase(server.getHost())
                || port(uri) != port(server)) {
            throw CliException.api("UnexpectedRedirect", "the server asked to poll " + uri.getScheme() + "://"
                    + uri.getAuthority() + ", which is not " + server + "; not sending credentials there.");
        }
        return uri;
    }

    private static int port(URI uri) {
        return uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    static URI serverUri(String server) {
        String s = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        URI uri;
        try {
            uri = URI.create(s);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("invalid server URL '" + server + "': " + e.getMessage());
        }
        if (uri.getScheme() == null || uri.getHost() == null
                || !(uri.getScheme().equals("https") || uri.getScheme().equals("http"))) {
            throw CliException.usage("invalid server URL '" + server + "': use https://HOST:PORT");
        }
        return uri;
    }

    private static HttpClient httpClient(URI server, String caFile) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (server.getScheme().equals("https")) {
            if (caFile == null || !Files.isReadable(Path.of(caFile))) {
                throw CliException.connection("cannot trust " + server + ": CA certificate " + caFile
                        + " is missing; run `secondsite login --ca FILE` (the server's <data-dir>/tls/ca.pem)");
            }
            try {
                builder.sslContext(TlsMaterial.clientContextTrusting(Path.of(caFile)));
            } catch (RuntimeException e) {
                throw CliException.connection("cannot use CA certificate " + caFile + ": " + e.getMessage());
            }
        }
        return builder.build();
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** One path segment, percent-encoded (spaces as %20, which the server decodes back). */
    static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
