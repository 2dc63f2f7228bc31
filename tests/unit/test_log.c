/* SPDX-License-Identifier: MIT */
/* The logger, with stderr redirected to a temporary file: line format, level filtering,
 * control characters, long messages, rate limiting per call site, and whole lines from
 * several threads. (The syslog destination is not exercised: it would write to the host's
 * log.) */
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "test.h"

TEST_DEFINE_STATE;

static int capture_fd = -1, saved_stderr = -1;
static char out[256 * 1024];

/* From here until capture_end(), stderr goes to an empty temporary file. */
static void
capture_begin(void)
{
	if (ftruncate(capture_fd, 0) != 0 || lseek(capture_fd, 0, SEEK_SET) != 0) {
		printf("# cannot reset the capture file\n");
		exit(1);
	}
	dup2(capture_fd, STDERR_FILENO);
}

/* What was logged since capture_begin(), NUL-terminated in out; stderr is restored. */
static const char *
capture_end(void)
{
	ssize_t n;

	dup2(saved_stderr, STDERR_FILENO);
	n = pread(capture_fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static unsigned int
count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static unsigned int
count_str(const char *s, const char *needle)
{
	unsigned int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

static void
test_level_parse(void)
{
	static const struct {
		const char *s;
		int r;
		enum log_level lvl;
	} rows[] = {
		{"error", 0, LOG_LVL_ERR},   {"warn", 0, LOG_LVL_WARN}, {"info", 0, LOG_LVL_INFO},
		{"debug", 0, LOG_LVL_DEBUG}, {"", E_INVAL, 0},		{"err", E_INVAL, 0},
		{"warning", E_INVAL, 0},     {"ERROR", E_INVAL, 0},	{"info ", E_INVAL, 0},
		{"debug2", E_INVAL, 0},
	};

	TEST_START("log_level_parse: the four names, nothing else");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum log_level lvl = LOG_LVL_INFO;

		ASSERT_INT_EQ(log_level_parse(rows[i].s, &lvl), rows[i].r);
		if (rows[i].r == 0)
			ASSERT_INT_EQ(lvl, rows[i].lvl);
	}
	TEST_DONE();
}

/* "2026-11-22T05:04:01.123Z buri-mediator[pid] warn: hello 42\n", and the time is now. */
static void
test_format(void)
{
	char pattern[256];
	regex_t re;
	regmatch_t m[2];
	struct tm tm;
	const char *s;
	bool compiled;
	time_t t;

	log_init("buri-mediator", LOG_LVL_INFO, false);
	TEST_START("stderr line: UTC time with ms, program[pid], level, message");
	snprintf(pattern, sizeof(pattern),
		 "^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\\.[0-9]{3}Z "
		 "buri-mediator\\[%ld\\] warn: hello 42\n$",
		 (long)getpid());
	ASSERT_TRUE((compiled = regcomp(&re, pattern, REG_EXTENDED) == 0));
	capture_begin();
	log_warn("hello %d", 42);
	s = capture_end();
	if (compiled) {
		ASSERT_INT_EQ(regexec(&re, s, 2, m, 0), 0);
		regfree(&re);
	}
	printf("# %s", s);
	memset(&tm, 0, sizeof(tm));
	ASSERT_INT_EQ(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			     &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
		      6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	ASSERT_TRUE(t >= time(NULL) - 5 && t <= time(NULL));
	TEST_DONE();
}

static void
log_all_four(void)
{
	log_err("e %s", "1");
	log_warn("w %s", "2");
	log_info("i %s", "3");
	log_debug("d %s", "4");
}

static void
test_levels(void)
{
	const char *s;

	TEST_START("level warn: error and warn only");
	log_init("t", LOG_LVL_WARN, false);
	capture_begin();
	log_all_four();
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 2);
	ASSERT_TRUE(strstr(s, "] error: e 1\n") != NULL);
	ASSERT_TRUE(strstr(s, "] warn: w 2\n") != NULL);
	TEST_DONE();

	TEST_START("level debug: all four, each under its name");
	log_init("t", LOG_LVL_DEBUG, false);
	capture_begin();
	log_all_four();
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 4);
	ASSERT_TRUE(strstr(s, "] info: i 3\n") != NULL);
	ASSERT_TRUE(strstr(s, "] debug: d 4\n") != NULL);
	TEST_DONE();

	TEST_START("level error: error only");
	log_init("t", LOG_LVL_ERR, false);
	capture_begin();
	log_all_four();
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 1);
	ASSERT_TRUE(strstr(s, "] error: e 1\n") != NULL);
	TEST_DONE();
}

static void
test_hostile_text(void)
{
	char big[5000];
	const char *s;
	size_t len;

	log_init("t", LOG_LVL_INFO, false);
	TEST_START("control characters become '?', a trailing newline is dropped");
	capture_begin();
	log_info("nick=%s", "a\nb\tc\x1b[31md\x7f");
	log_info("ends in newline\n");
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 2);
	ASSERT_TRUE(strstr(s, "] info: nick=a?b?c?[31md?\n") != NULL);
	ASSERT_TRUE(strstr(s, "] info: ends in newline\n") != NULL);
	TEST_DONE();

	TEST_START("a 5000-byte message is cut to one line of at most LOG_LINE_MAX bytes");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_begin();
	log_info("%s", big);
	s = capture_end();
	len = strlen(s);
	ASSERT_INT_EQ(count_lines(s), 1);
	ASSERT_TRUE(len > LOG_LINE_MAX - 8 && len <= LOG_LINE_MAX);
	ASSERT_TRUE(len > 0 && s[len - 1] == '\n');
	TEST_DONE();
}

/* One call site, used again and again. */
static void
site_a(int i)
{
	log_ratelimited_every(300, 3, LOG_LVL_INFO, "site a %d", i);
}

static void
site_b(int i)
{
	log_ratelimited_every(300, 3, LOG_LVL_INFO, "site b %d", i);
}

static void
site_level(enum log_level lvl, int i)
{
	log_ratelimited_every(60000, 3, lvl, "site level %d", i);
}

static void
test_ratelimit(void)
{
	struct timespec pause = {0, 350 * 1000000L};
	const char *s;

	log_init("t", LOG_LVL_INFO, false);
	TEST_START("rate limit: 3 per 300 ms per site, then a report of what was dropped");
	capture_begin();
	for (int i = 0; i < 10; i++)
		site_a(i);
	site_b(0); /* another site has its own budget */
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 4);
	ASSERT_TRUE(strstr(s, "site a 0\n") && strstr(s, "site a 1\n") && strstr(s, "site a 2\n"));
	ASSERT_TRUE(strstr(s, "site a 3") == NULL);
	ASSERT_TRUE(strstr(s, "site b 0\n") != NULL);
	nanosleep(&pause, NULL);
	capture_begin();
	site_a(10);
	site_a(11);
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 2);
	ASSERT_TRUE(strstr(s, "] info: site a 10 (7 similar messages suppressed)\n") != NULL);
	ASSERT_TRUE(strstr(s, "] info: site a 11\n") != NULL);
	TEST_DONE();

	TEST_START("log_ratelimited: LOG_RL_BURST messages from a loop of 25");
	capture_begin();
	for (int i = 0; i < 25; i++)
		log_ratelimited(LOG_LVL_WARN, "default site %d", i);
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), LOG_RL_BURST);
	TEST_DONE();

	TEST_START("messages below the level do not use up the burst");
	log_init("t", LOG_LVL_WARN, false);
	capture_begin();
	for (int i = 0; i < 20; i++)
		site_level(LOG_LVL_DEBUG, i);
	for (int i = 0; i < 3; i++)
		site_level(LOG_LVL_ERR, 100 + i);
	s = capture_end();
	ASSERT_INT_EQ(count_lines(s), 3);
	ASSERT_INT_EQ(count_str(s, "suppressed"), 0);
	TEST_DONE();
}

enum { THREADS = 4, PER_THREAD = 200 };

static void *
chatter(void *arg)
{
	for (int i = 0; i < PER_THREAD; i++) {
		log_info("thread %d line %d %s", *(int *)arg, i, "padding padding padding padding");
		log_ratelimited_every(60000, 5, LOG_LVL_INFO, "shared site");
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];
	int ids[THREADS];
	const char *s;
	int started = 0;

	log_init("t", LOG_LVL_INFO, false);
	TEST_START("4 threads: every line whole, a shared rate-limited site logs exactly 5");
	capture_begin();
	for (int i = 0; i < THREADS; i++) {
		ids[i] = i;
		if (pthread_create(&t[i], NULL, chatter, &ids[i]) == 0)
			started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	s = capture_end();
	ASSERT_INT_EQ(started, THREADS);
	ASSERT_INT_EQ(count_lines(s), THREADS * PER_THREAD + 5);
	ASSERT_INT_EQ(count_str(s, "padding padding padding padding\n"), THREADS * PER_THREAD);
	ASSERT_INT_EQ(count_str(s, "] info: shared site\n"), 5);
	ASSERT_INT_EQ(count_str(s, "Z t["), THREADS * PER_THREAD + 5);
	TEST_DONE();
}

int
main(void)
{
	char path[] = "/tmp/test_log.XXXXXX";

	if ((capture_fd = mkstemp(path)) < 0 || (saved_stderr = dup(STDERR_FILENO)) < 0) {
		printf("Bail out! cannot create the capture file\n");
		return 1;
	}
	unlink(path);
	test_level_parse();
	test_format();
	test_levels();
	test_hostile_text();
	test_ratelimit();
	test_threads();
	return test_finish();
}
