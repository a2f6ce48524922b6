package io.sluice.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for tests: S3Proxy 2.6.0 (org.gaul:s3proxy from Maven Central) on its filesystem
 * backend, as a child JVM. It is kept off the test classpath because it brings Jetty 11 and Sluice runs Jetty 12:
 * its classpath is resolved once from {@code src/test/s3proxy/pom.xml} into {@code target/s3proxy.classpath}.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String IDENTITY = "test-identity";
    public static final String CREDENTIAL = "test-credential";
    private static final Path CLASSPATH = Path.of("target", "s3proxy.classpath").toAbsolutePath();

    private final Process process;
    private final int port;
    private final Path log;

    private S3ProxyServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts S3Proxy on a free port, storing under {@code dir}, with the bucket already made. */
    public static S3ProxyServer start(Path dir, String bucket) throws IOException, InterruptedException {
        String classpath = classpath();
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path data = Files.createDirectories(dir.resolve("s3-data"));
        Files.createDirectories(data.resolve(bucket)); // the filesystem backend's bucket is a directory
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, """
                s3proxy.endpoint=http://127.0.0.1:%d
                s3proxy.authorization=aws-v2-or-v4
                s3proxy.identity=%s
                s3proxy.credential=%s
                jclouds.provider=filesystem
                jclouds.filesystem.basedir=%s
                """.formatted(port, IDENTITY, CREDENTIAL, data));
        String java = ProcessHandle.current().info().command().orElse("java");
        Path log = dir.resolve("s3proxy.log");
        Process process = new ProcessBuilder(
                        java,
                        "-Xmx256m",
                        "-cp",
                        classpath,
                        "org.gaul.s3proxy.Main",
                        "--properties",
                        properties.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        S3ProxyServer server = new S3ProxyServer(process, port, log);
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (!process.isAlive()) throw new AssertionError("S3Proxy exited:\n" + server.output());
                    try {
                        http.send(
                                HttpRequest.newBuilder(URI.create(server.endpoint()))
                                        .build(),
                                HttpResponse.BodyHandlers.discarding());
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
        return server;
    }

    private static synchronized String classpath() throws IOException, InterruptedException {
        if (!Files.exists(CLASSPATH)) {
            Path pom = Path.of("src", "test", "s3proxy", "pom.xml").toAbsolutePath();
            Process mvn = new ProcessBuilder(List.of(
                            Path.of("mvnw").toAbsolutePath().toString(),
                            "-q",
                            "-B",
                            "-f",
                            pom.toString(),
                            "dependency:build-classpath",
                            "-Dmdep.outputFile=" + CLASSPATH))
                    .redirectErrorStream(true)
                    .start();
            String out = new String(mvn.getInputStream().readAllBytes());
            if (!mvn.waitFor(5, TimeUnit.MINUTES) || mvn.exitValue() != 0 || !Files.exists(CLASSPATH))
                throw new IllegalStateException("cannot resolve S3Proxy's classpath:\n" + out);
        }
        return Files.readString(CLASSPATH).strip();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
    }
}
