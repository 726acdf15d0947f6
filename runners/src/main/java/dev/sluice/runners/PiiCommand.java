package dev.sluice.runners;

import dev.sluice.pipelines.plan.PersonalData;
import dev.sluice.transforms.pii.PiiKeys;
import dev.sluice.transforms.pii.PiiKeysSource;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The personal-data keys: {@code sluice pii-keyset} makes (or rotates) a keyset, {@code sluice
 * detokenize} recovers the values of tokens with it.
 */
final class PiiCommand {
  static final List<String> KEYSET = List.of("output", "rotate");
  static final List<String> DETOKENIZE = List.of("piiKeyset");

  private PiiCommand() {}

  /**
   * {@code pii-keyset --output=<file> [--rotate=file:<old>|env:<NAME>]}: a new keyset, or the old
   * one with a new primary key of each kind (old keys still decrypt), written owner-only to a file
   * that must not exist yet (overwriting a keyset would lose the only way back from its tokens).
   */
  static int keyset(String[] args, PrintStream out) throws IOException {
    Flags flags = Flags.parse(args, KEYSET);
    Path output = Path.of(flags.required("output"));
    String rotate = flags.get("rotate");
    PiiKeys keys;
    if (rotate == null) {
      keys = PiiKeys.generate();
    } else {
      PiiKeysSource old;
      try {
        old = PersonalData.keys(rotate);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage().replace("--piiKeyset=", "--rotate="));
      }
      keys = old.keys().rotate();
    }
    if (output.getParent() != null) {
      Files.createDirectories(output.getParent());
    }
    try {
      Files.createFile(
          output,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      throw new UsageException(
          "--output="
              + output
              + " exists: a keyset is never overwritten (its tokens and sealed dead letters need"
              + " it); write the new one elsewhere");
    } catch (UnsupportedOperationException e) {
      Files.createFile(output);
    }
    Files.writeString(output, keys.toJson(), StandardCharsets.UTF_8, StandardOpenOption.WRITE);
    out.println(
        (rotate == null
                ? "Wrote a new PII keyset to "
                : "Wrote the keyset of " + rotate + ", rotated, to ")
            + output
            + " ("
            + keys.keys()
            + " key(s) of each kind: token AES256_SIV, hash HMAC_SHA256_PRF, seal AES256_SIV)."
            + " Keep it secret; pass it as --piiKeyset=file:"
            + output.toAbsolutePath()
            + " from a directory of SLUICE_SECRET_DIRS.");
    return Exit.OK;
  }

  /** {@code detokenize --piiKeyset=<ref> tok_… [tok_…]}: each token's value, one per line. */
  static int detokenize(String[] args, PrintStream out) {
    Flags flags = Flags.parse(args, DETOKENIZE);
    List<String> tokens =
        new ArrayList<>(Arrays.stream(args).filter(a -> !a.startsWith("--")).toList());
    if (tokens.isEmpty()) {
      throw new UsageException(
          "Give the tokens to recover: sluice detokenize --piiKeyset=... tok_…");
    }
    PiiKeysSource keys;
    try {
      keys = PersonalData.keys(flags.required("piiKeyset"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    for (String token : tokens) {
      try {
        out.println(keys.keys().detokenize(token));
      } catch (IllegalArgumentException e) {
        throw new UsageException(
            "'"
                + (token.length() > 24 ? token.substring(0, 24) + "…" : token)
                + "' cannot be detokenized: "
                + e.getMessage());
      }
    }
    return Exit.OK;
  }
}
