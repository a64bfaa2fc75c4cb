package dev.eventscan.scan.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.scan.scoring.ExposureScoring.Findings;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ExposureScoringTest {
  @Test
  void nothing_found_scores_zero_with_full_confidence() {
    ExposureScore score = ExposureScoring.score(new Findings(List.of(), 1, false, 0, 0));
    assertThat(score.score()).isZero();
    assertThat(score.confidence()).isEqualTo(1.0);
    assertThat(score.breakdown())
        .extracting(ExposureScore.Component::name)
        .containsExactly("surface", "sensitive-names", "wildcard-dns", "associated-domains");
  }

  @Test
  void sensitive_names_wildcards_and_extra_domains_add_up() {
    ExposureScore score =
        ExposureScoring.score(
            new Findings(
                List.of("www.a.com", "admin.a.com", "dev-api.a.com", "WWW.A.COM"), 3, true, 2, 1));
    // surface 3*2 + sensitive 2*8 + wildcard 10 + associated 2*2
    assertThat(score.score()).isEqualTo(36);
    assertThat(score.confidence()).isEqualTo(0.65);
  }

  @Test
  void the_score_is_capped_at_100_and_confidence_at_zero() {
    List<String> many = IntStream.range(0, 50).mapToObj(i -> "admin" + i + ".a.com").toList();
    List<String> sensitive =
        IntStream.range(0, 10).mapToObj(i -> "jenkins.s" + i + ".a.com").toList();
    ExposureScore score =
        ExposureScoring.score(
            new Findings(
                java.util.stream.Stream.concat(many.stream(), sensitive.stream()).toList(),
                20,
                true,
                30,
                5));
    assertThat(score.score()).isEqualTo(100);
    assertThat(score.confidence()).isZero();
  }
}
