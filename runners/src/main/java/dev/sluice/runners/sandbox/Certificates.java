package dev.sluice.runners.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority of the sandbox's own and a server certificate it signed for {@code
 * localhost} and {@code 127.0.0.1}, made with the JDK's {@code keytool} (nothing downloaded), in a
 * directory: what a TLS server (PostgreSQL, Kafka) and its clients need.
 *
 * <ul>
 *   <li>{@code ca.pem}: the CA's certificate, what clients trust ({@code sslrootcert=});
 *   <li>{@code truststore.p12}: the same as a PKCS12 trust store (Kafka clients);
 *   <li>{@code server.p12}: the server's key and certificate chain (Kafka brokers);
 *   <li>{@code server.pem} and {@code server.key}: the same as PEM files (PostgreSQL);
 *   <li>{@code store.password}: the stores' password, generated.
 * </ul>
 */
public final class Certificates {
  private final Path dir;
  private final String password;

  private Certificates(Path dir, String password) {
    this.dir = dir;
    this.password = password;
  }

  /** The authority and server certificate in {@code dir}, made there when absent. */
  public static Certificates in(Path dir, String caName) throws IOException {
    Files.createDirectories(dir);
    Path passwordFile = dir.resolve("store.password");
    if (Files.exists(dir.resolve("server.key")) && Files.exists(passwordFile)) {
      return new Certificates(dir, Files.readString(passwordFile).strip());
    }
    byte[] random = new byte[18];
    new SecureRandom().nextBytes(random);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.writeString(passwordFile, password);
    restrict(passwordFile);
    Certificates certs = new Certificates(dir, password);
    certs.make(caName);
    return certs;
  }

  private void make(String caName) throws IOException {
    for (String file : List.of("ca.p12", "server.p12", "truststore.p12", "server.csr")) {
      Files.deleteIfExists(dir.resolve(file));
    }
    keytool(
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "365",
        "-dname",
        "CN=" + caName,
        "-ext",
        "bc:c",
        "-keystore",
        "ca.p12",
        "-storetype",
        "PKCS12");
    keytool("-exportcert", "-alias", "ca", "-rfc", "-file", "ca.pem", "-keystore", "ca.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "server",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "365",
        "-dname",
        "CN=localhost",
        "-keystore",
        "server.p12",
        "-storetype",
        "PKCS12");
    keytool("-certreq", "-alias", "server", "-file", "server.csr", "-keystore", "server.p12");
    keytool(
        "-gencert",
        "-alias",
        "ca",
        "-infile",
        "server.csr",
        "-outfile",
        "server-only.pem",
        "-rfc",
        "-validity",
        "365",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-ext",
        "KU=digitalSignature,keyEncipherment",
        "-ext",
        "EKU=serverAuth",
        "-keystore",
        "ca.p12");
    // The chain into the server's store: the CA first, then the signed certificate.
    keytool(
        "-importcert", "-noprompt", "-alias", "ca", "-file", "ca.pem", "-keystore", "server.p12");
    keytool(
        "-importcert", "-alias", "server", "-file", "server-only.pem", "-keystore", "server.p12");
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.pem",
        "-keystore",
        "truststore.p12",
        "-storetype",
        "PKCS12");
    Files.writeString(
        dir.resolve("server.pem"),
        Files.readString(dir.resolve("server-only.pem")) + Files.readString(dir.resolve("ca.pem")));
    Path key = dir.resolve("server.key");
    Files.writeString(key, privateKeyPem());
    restrict(key);
    Files.deleteIfExists(dir.resolve("server.csr"));
  }

  /** A new RSA key pair and its self-signed certificate, in a PKCS12 store of its own. */
  private void keyPair(String alias, String name, String store, String... more) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-validity",
                "365",
                "-dname",
                name,
                "-keystore",
                store,
                "-storetype",
                "PKCS12"));
    args.addAll(List.of(more));
    keytool(args.toArray(String[]::new));
  }

  private String privateKeyPem() throws IOException {
    try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password.toCharArray());
      Key key = store.getKey("server", password.toCharArray());
      return "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(key.getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the server key back: " + e.getMessage(), e);
    }
  }

  private void keytool(String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    command.addAll(List.of("-storepass", password, "-keypass", password));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    try (InputStream in = process.getInputStream()) {
      in.transferTo(output);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException(
            "keytool " + args[0] + " failed: " + output.toString(StandardCharsets.UTF_8).strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running keytool", e);
    }
  }

  private static void restrict(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: the directory's own permissions protect it.
    }
  }

  public Path dir() {
    return dir;
  }

  /** The CA certificate clients trust. */
  public Path caPem() {
    return dir.resolve("ca.pem");
  }

  public Path serverPem() {
    return dir.resolve("server.pem");
  }

  public Path serverKey() {
    return dir.resolve("server.key");
  }

  public Path serverStore() {
    return dir.resolve("server.p12");
  }

  public Path trustStore() {
    return dir.resolve("truststore.p12");
  }

  /** The stores' password (a sandbox's own, generated; kept in {@code store.password}). */
  public String storePassword() {
    return password;
  }
}
