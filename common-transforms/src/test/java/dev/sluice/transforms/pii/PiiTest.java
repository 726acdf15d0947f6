package dev.sluice.transforms.pii;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sluice.schemas.DeadLetter;
import dev.sluice.transforms.core.FailureReason;
import dev.sluice.transforms.core.RecordException;
import dev.sluice.transforms.core.SourceRecord;
import dev.sluice.transforms.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class PiiTest {
  private static final Schema CONTRACT =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"P\",\"sluice.version\":2,\"fields\":["
                  + "{\"name\":\"id\",\"type\":\"long\"},"
                  + "{\"name\":\"email\",\"type\":[\"null\",\"string\"],\"default\":null,"
                  + "\"sluice.pii\":\"token\"},"
                  + "{\"name\":\"phone\",\"type\":[\"null\",\"string\"],\"default\":null,"
                  + "\"sluice.pii\":\"hash\"},"
                  + "{\"name\":\"name\",\"type\":\"string\",\"sluice.pii\":\"redact\"},"
                  + "{\"name\":\"ssn\",\"type\":[\"null\",\"string\"],\"default\":null,"
                  + "\"sluice.pii\":\"drop\"}]}");

  private static final PiiKeys KEYS = PiiKeys.generate();
  private static final String JSON = KEYS.toJson();

  private static PiiKeysSource source(String json) {
    return PiiKeysSource.of("file:/test/keyset.json", r -> json);
  }

  private static GenericRecord record(long id, String email, String phone, String name) {
    GenericRecord r = new GenericData.Record(CONTRACT);
    r.put("id", id);
    r.put("email", email);
    r.put("phone", phone);
    r.put("name", name);
    r.put("ssn", "123-45-6789");
    return r;
  }

  @Test
  void eachPolicyIsAppliedAndDroppedFieldsLeaveTheRecord() {
    Pii pii = Pii.of(CONTRACT, source(JSON));
    GenericRecord a = pii.apply(record(1, "a@x.org", "+1 555", "Ann"));
    GenericRecord b = pii.apply(record(2, "a@x.org", null, "Bea"));
    assertThat(a.getSchema().getField("ssn"), is(nullValue()));
    assertThat(a.get("id"), is(1L));
    assertThat(a.get("email").toString(), startsWith(PiiKeys.TOKEN_PREFIX));
    assertThat(a.get("email"), equalTo(b.get("email")));
    assertThat(a.get("phone").toString(), matchesPattern("[0-9a-f]{64}"));
    assertThat(a.get("phone"), equalTo(KEYS.hash("+1 555")));
    assertThat(b.get("phone"), is(nullValue()));
    assertThat(a.get("name"), equalTo("***"));
    assertThat(KEYS.detokenize(a.get("email").toString()), equalTo("a@x.org"));
  }

  @Test
  void aContractWithPersonalDataNeedsKeysAndOneWithoutGetsNoPolicy() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Pii.of(CONTRACT, null));
    assertThat(
        e.getMessage(),
        containsString(
            "Schema P v2 marks personal data (email=token,phone=hash,name=redact,ssn=drop):"
                + " --piiKeyset=file:<path>|env:<NAME> is required"));
    Schema plain = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Q\",\"fields\":[]}");
    assertThat(Pii.of(plain, null), is(nullValue()));
  }

  @Test
  void rotationKeepsOldTokensAndSealsReadableAndMakesNewOnesWithTheNewKey() {
    String token = KEYS.token("a@x.org");
    byte[] sealed = KEYS.seal(new byte[] {1, 2, 3});
    PiiKeys rotated = PiiKeys.parse(KEYS.rotate().toJson(), "rotated");
    assertThat(rotated.keys(), is(2));
    assertThat(rotated.detokenize(token), equalTo("a@x.org"));
    assertThat(rotated.open(sealed), equalTo(new byte[] {1, 2, 3}));
    assertThat(rotated.token("a@x.org"), not(equalTo(token)));
    assertThat(KEYS.token("a@x.org"), equalTo(token));
    IllegalArgumentException foreign =
        assertThrows(
            IllegalArgumentException.class,
            () -> PiiKeys.generate().detokenize(rotated.token("a@x.org")));
    assertThat(foreign.getMessage(), containsString("not made with any key of this keyset"));
  }

  @Test
  void aKeysetThatIsNotOneIsNamedByItsReferenceNeverQuoted() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> PiiKeys.parse("{\"token\":{}, \"secret\":\"hunter2\"}", "file:/k.json"));
    assertThat(e.getMessage(), startsWith("file:/k.json"));
    assertThat(e.getMessage(), not(containsString("hunter2")));
  }

  private static DeadLetter deadLetter(String payload, String header, String message) {
    SourceRecord record =
        new SourceRecord(
            "file:/in/p.csv#2",
            payload.getBytes(StandardCharsets.UTF_8),
            null,
            header == null ? null : header.getBytes(StandardCharsets.UTF_8));
    return DeadLetters.forStep("t", "Parse")
        .withSchema(CONTRACT)
        .of(record, new RecordException(FailureReason.PARSE, message));
  }

  @Test
  void aSealedDeadLetterHoldsNoClearValueAndOpensWithTheKeys() {
    Pii pii = Pii.of(CONTRACT, source(JSON));
    DeadLetter json =
        pii.seal(
            deadLetter(
                "{\"id\":\"x\",\"email\":\"a@x.org\",\"after\":{\"name\":\"Ann\"}}",
                null,
                "field 'id' expected a long, got 'x' near a@x.org"));
    assertThat(json.getPayloadEncryption().toString(), equalTo(PiiKeys.SEALED));
    assertThat(
        json.getPayloadPreview().toString(),
        equalTo("{\"id\":\"x\",\"email\":\"***\",\"after\":{\"name\":\"***\"}}"));
    assertThat(
        json.getErrorMessage().toString(), equalTo("field 'id' expected a long, got 'x' near ***"));
    String stored = new String(json.getPayload().array(), StandardCharsets.ISO_8859_1);
    assertThat(stored, not(containsString("a@x.org")));
    assertThat(
        new String(Pii.payload(json, source(JSON)), StandardCharsets.UTF_8),
        containsString("a@x.org"));
    // Sealing is deterministic, so a rerun stores the same dead letter once; and idempotent.
    assertThat(pii.seal(json), is(json));
    assertThat(
        pii.seal(deadLetter("{\"id\":\"x\",\"email\":\"a@x.org\"}", null, "m")).getPayload(),
        equalTo(
            pii.seal(deadLetter("{\"id\":\"x\",\"email\":\"a@x.org\"}", null, "m")).getPayload()));
    IllegalArgumentException noKeys =
        assertThrows(IllegalArgumentException.class, () -> Pii.payload(json, null));
    assertThat(noKeys.getMessage(), containsString("is sealed"));

    DeadLetter csv = pii.seal(deadLetter("7,a@x.org,,Ann", "id,email,phone,name", "bad 'Ann'"));
    assertThat(csv.getPayloadPreview().toString(), equalTo("7,***,,***"));
    assertThat(csv.getErrorMessage().toString(), equalTo("bad '***'"));

    DeadLetter broken =
        pii.seal(deadLetter("{\"email\": a@x.org", null, "Unrecognized token 'a': was expecting"));
    assertThat(broken.getPayloadPreview().toString(), startsWith("[payload withheld"));
    assertThat(
        broken.getErrorMessage().toString(), equalTo("Unrecognized token '***': was expecting"));
    assertThat(broken.getStackTrace(), is(nullValue()));
  }

  @Test
  void redactionFindsFieldsInNestedJsonAndArrays() {
    PiiRedaction.Redacted r =
        PiiRedaction.redact(
            "{\"payload\":{\"before\":null,\"after\":{\"email\":\"a@x.org\",\"n\":[{\"email\":\"b@y\"}]}}}"
                .getBytes(StandardCharsets.UTF_8),
            null,
            Set.of("email"));
    assertThat(
        r.preview(),
        equalTo(
            "{\"payload\":{\"before\":null,\"after\":{\"email\":\"***\",\"n\":[{\"email\":\"***\"}]}}}"));
    assertThat(r.scrub("a@x.org and b@y"), equalTo("*** and ***"));
  }
}
