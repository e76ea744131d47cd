package dev.secondsite;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PluralTest {
    @Test
    void oneIsSingularEverythingElsePlural() {
        assertThat(Plural.of(1, "changed chunk")).isEqualTo("1 changed chunk");
        assertThat(Plural.of(0, "changed chunk")).isEqualTo("0 changed chunks");
        assertThat(Plural.of(3, "segment")).isEqualTo("3 segments");
        assertThat(Plural.of(2, "entry", "entries")).isEqualTo("2 entries");
        assertThat(Plural.of(1, "entry", "entries")).isEqualTo("1 entry");
    }
}
