package dev.sluice.io.secrets;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import org.junit.jupiter.api.Test;

class RedactionTest {
  @Test
  void userInfoAndParameterValuesAreMaskedNamesKept() {
    assertThat(
        Redaction.url("http://user:pa55@lineage.example:5000/api/v1/lineage?api_key=k3y&x=1"),
        equalTo("http://***@lineage.example:5000/api/v1/lineage?api_key=***&x=***"));
    assertThat(
        Redaction.url("jdbc:postgresql://db:5432/app?user=u&password=p&sslmode=require"),
        equalTo("jdbc:postgresql://db:5432/app?user=***&password=***&sslmode=***"));
    assertThat(
        Redaction.url("jdbc:sqlserver://db:1433;user=u;password=p"),
        equalTo("jdbc:sqlserver://db:1433;user=***;password=***"));
    assertThat(
        Redaction.url("https://h/cb#access_token=t0k&state=s"),
        equalTo("https://h/cb#access_token=***&state=***"));
    // An @ in the password and none in the path.
    assertThat(Redaction.url("http://u:p@ss@h:1/a@b"), equalTo("http://***@h:1/a@b"));
  }

  @Test
  void plainAddressesAndServerListsStayReadable() {
    assertThat(
        Redaction.url("http://localhost:9090/metrics"), equalTo("http://localhost:9090/metrics"));
    assertThat(Redaction.url("file:/tmp/lineage"), equalTo("file:/tmp/lineage"));
    assertThat(Redaction.url("kafka:lineage"), equalTo("kafka:lineage"));
    assertThat(Redaction.url("svc:secret@k1:9092,k2:9092"), equalTo("***@k1:9092,k2:9092"));
  }

  @Test
  void anAddressDropsUserInfoAndParameters() {
    assertThat(
        Redaction.address("jdbc:postgresql://u:p@db:5432/app?password=p"),
        equalTo("jdbc:postgresql://db:5432/app"));
    assertThat(Redaction.address("jdbc:postgresql://db/app"), equalTo("jdbc:postgresql://db/app"));
  }
}
