package dev.sluice.transforms.pii;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.DeterministicAead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.daead.DeterministicAeadConfig;
import com.google.crypto.tink.prf.PrfConfig;
import com.google.crypto.tink.prf.PrfSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Sluice's personal-data keys: three Tink keysets in one JSON document, made by {@code sluice
 * pii-keyset}:
 *
 * <ul>
 *   <li>{@code token}: AES256_SIV, deterministic encryption for {@code sluice.pii: token} (equal
 *       values give equal tokens; {@link #detokenize} reverses it with any key of the keyset);
 *   <li>{@code hash}: HMAC_SHA256_PRF, a keyed hash for {@code sluice.pii: hash};
 *   <li>{@code seal}: AES256_SIV, which encrypts the payload of a dead letter whose contract holds
 *       personal data (an authenticated encryption, deterministic so that a rerun that meets the
 *       same bad record stores the same dead letter, which the stores keep once).
 * </ul>
 *
 * Rotation ({@link #rotate}) adds a new primary key to each keyset: new tokens and sealed dead
 * letters use it, and the old keys still decrypt what they made (a token or a sealed payload names
 * its key). A hash is made with the primary key only, so hashes change with a rotation.
 */
public final class PiiKeys {
  /** The prefix of a token, so that a reader tells a token from a clear value. */
  public static final String TOKEN_PREFIX = "tok_";

  /** The {@code payload_encryption} of a sealed dead letter. */
  public static final String SEALED = "tink-aes-siv";

  private static final byte[] NO_CONTEXT = new byte[0];
  private static final byte[] SEAL_CONTEXT = "sluice dead letter".getBytes(StandardCharsets.UTF_8);
  private static final ObjectMapper JSON = new ObjectMapper();

  static {
    try {
      DeterministicAeadConfig.register();
      PrfConfig.register();
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final KeysetHandle token;
  private final KeysetHandle hash;
  private final KeysetHandle seal;
  private final DeterministicAead tokens;
  private final PrfSet hashes;
  private final DeterministicAead sealer;

  private PiiKeys(KeysetHandle token, KeysetHandle hash, KeysetHandle seal)
      throws GeneralSecurityException {
    this.token = token;
    this.hash = hash;
    this.seal = seal;
    this.tokens = token.getPrimitive(RegistryConfiguration.get(), DeterministicAead.class);
    this.hashes = hash.getPrimitive(RegistryConfiguration.get(), PrfSet.class);
    this.sealer = seal.getPrimitive(RegistryConfiguration.get(), DeterministicAead.class);
  }

  /** New keys, one of each kind. */
  public static PiiKeys generate() {
    try {
      return new PiiKeys(
          KeysetHandle.generateNew(com.google.crypto.tink.KeyTemplates.get("AES256_SIV")),
          KeysetHandle.generateNew(com.google.crypto.tink.KeyTemplates.get("HMAC_SHA256_PRF")),
          KeysetHandle.generateNew(com.google.crypto.tink.KeyTemplates.get("AES256_SIV")));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate Tink keys: " + e.getMessage(), e);
    }
  }

  /**
   * The keys of a JSON document {@link #toJson} wrote.
   *
   * @param where names the document in errors (a reference, never its content)
   * @throws IllegalArgumentException naming {@code where} and what is missing or wrong
   */
  public static PiiKeys parse(String json, String where) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + " is not a Sluice PII keyset (not JSON)");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(where + " is not a Sluice PII keyset (not a JSON object)");
    }
    try {
      return new PiiKeys(
          keyset(root, "token", where), keyset(root, "hash", where), keyset(root, "seal", where));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          where + " holds a keyset of the wrong kind: " + e.getMessage(), e);
    }
  }

  private static KeysetHandle keyset(JsonNode root, String name, String where) {
    JsonNode node = root.get(name);
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(
          where
              + " is not a Sluice PII keyset: it has no '"
              + name
              + "' keyset (make one with sluice pii-keyset --output=<file>)");
    }
    try {
      return TinkJsonProtoKeysetFormat.parseKeyset(node.toString(), InsecureSecretKeyAccess.get());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          where + ": its '" + name + "' keyset is not a Tink keyset: " + e.getMessage(), e);
    }
  }

  /** The keys as one JSON document: keep it secret, like a password file. */
  public String toJson() {
    try {
      ObjectNode root = JSON.createObjectNode();
      root.set("token", JSON.readTree(serialize(token)));
      root.set("hash", JSON.readTree(serialize(hash)));
      root.set("seal", JSON.readTree(serialize(seal)));
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String serialize(KeysetHandle handle) {
    try {
      return TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The same keys and a new primary key of each kind: new values use it, old keys still decrypt.
   */
  public PiiKeys rotate() {
    try {
      return new PiiKeys(
          withNewPrimary(token, "AES256_SIV"),
          withNewPrimary(hash, "HMAC_SHA256_PRF"),
          withNewPrimary(seal, "AES256_SIV"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot rotate the keys: " + e.getMessage(), e);
    }
  }

  private static KeysetHandle withNewPrimary(KeysetHandle handle, String template)
      throws GeneralSecurityException {
    return KeysetHandle.newBuilder(handle)
        .addEntry(
            KeysetHandle.generateEntryFromParametersName(template).withRandomId().makePrimary())
        .build();
  }

  /** How many keys each keyset holds (the rotations plus one). */
  public int keys() {
    return token.size();
  }

  /** {@code tok_<base64url>}: the same value always gives the same token under the same key. */
  public String token(String value) {
    try {
      return TOKEN_PREFIX
          + Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  tokens.encryptDeterministically(
                      value.getBytes(StandardCharsets.UTF_8), NO_CONTEXT));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot tokenize: " + e.getMessage(), e);
    }
  }

  /**
   * The value of a token.
   *
   * @throws IllegalArgumentException when it is not a token, or none of the keys made it
   */
  public String detokenize(String token) {
    if (!token.startsWith(TOKEN_PREFIX)) {
      throw new IllegalArgumentException(
          "not a Sluice token (tokens start with " + TOKEN_PREFIX + ")");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(token.substring(TOKEN_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a Sluice token (not base64url after the prefix)");
    }
    try {
      return new String(tokens.decryptDeterministically(bytes, NO_CONTEXT), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the token was not made with any key of this keyset (wrong keyset, or a damaged token)");
    }
  }

  /** The keyed HMAC-SHA256 of a value, as 64 hex digits. */
  public String hash(String value) {
    try {
      return HexFormat.of()
          .formatHex(hashes.computePrimary(value.getBytes(StandardCharsets.UTF_8), 32));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot hash: " + e.getMessage(), e);
    }
  }

  /** A dead letter's payload, encrypted. */
  public byte[] seal(byte[] payload) {
    try {
      return sealer.encryptDeterministically(payload, SEAL_CONTEXT);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot seal a dead letter: " + e.getMessage(), e);
    }
  }

  /**
   * A sealed payload, decrypted.
   *
   * @throws IllegalArgumentException when no key of this keyset sealed it
   */
  public byte[] open(byte[] sealed) {
    try {
      return sealer.decryptDeterministically(sealed, SEAL_CONTEXT);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the dead letter's payload was not sealed with any key of this keyset (wrong"
              + " --piiKeyset?)");
    }
  }
}
