/*
 * krpc-blast: open-loop KRPC (BEP 5) query generator in C, for rates a Node.js generator cannot offer.
 * The same options and the same output as krpc-load.ts (see bench/load/README.md); run-load.ts builds it
 * with `cc -O2` into a temporary folder and runs it.
 *
 * One thread, non-blocking UDP sockets bound round-robin to a range of 127/8 source addresses; queries leave in
 * sendmmsg batches (--batch 1: every packet from the next socket, so no two consecutive queries share a source
 * address) and replies are drained with recvmmsg. Each query carries a 4-byte transaction id = sequence number
 * XOR a per-run random key, so a reply finds its send time in a fixed ring without a map (a reply more than 4 M
 * queries late, 20 s at 200k/s, no longer matches and counts as lost). Replies are checked by a byte scan (a "t" of
 * 4 bytes, "y" = "r", a 20-byte "id"), not decoded: the server is under test, not us.
 *
 * For each rate step it prints one JSON line on stdout: offered, sent and answered per second, loss, p50/p99
 * latency, KRPC errors, bad or late replies, sends refused by a full socket buffer, and the server's CPU and RSS
 * read from /proc/PID when --server-pid is given. A human table goes to stderr unless --quiet.
 *
 * Bounded: loopback targets and sources only; at most 64 sockets, 32 steps of at most 60 s, 10 minutes a run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  MAX_SOCKETS = 64,
  MAX_STEPS = 32,
  MAX_SOURCES = 256,
  MAX_BATCH = 64,
  QUERY_MAX_BYTES = 160,
  REPLY_MAX_BYTES = 2048,
  RING_SLOTS = 1 << 22, /* sequence numbers in flight that can still be matched */
  HISTOGRAM_BINS = 1000000, /* 10 us each: latencies up to 10 s */
};
static const double HISTOGRAM_BIN_MS = 0.01;
static const double MAX_STEP_SECONDS = 60;
static const double MAX_RUN_SECONDS = 600;

struct options {
  struct sockaddr_in target;
  const char *query;
  int sockets;
  uint32_t first_source, source_count; /* host byte order */
  double rates[MAX_STEPS];
  int step_count;
  double step_seconds;
  int gap_ms;
  int batch;
  double stop_loss_pct;
  int server_pid;
  double max_seconds;
  int is_quiet;
};

struct step_counts {
  uint64_t sent, answered, krpc_errors, bad_replies, send_blocked;
};

static uint32_t tid_key;
static double *sent_at_s;   /* by sequence number & (RING_SLOTS - 1) */
static uint32_t *slot_seq;  /* which sequence number the slot holds */
static uint8_t *is_answered;
static uint32_t *latency_bins;

static double monotonic_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill_random(void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom((char *)buf + done, len - done, 0);
    if (n < 0 && errno != EINTR) { perror("getrandom"); exit(1); }
    if (n > 0) done += (size_t)n;
  }
}

static int is_loopback(uint32_t host_order_ip) { return (host_order_ip >> 24) == 127; }

static void usage_exit(const char *why) {
  fprintf(stderr,
          "krpc-blast: %s\n"
          "usage: krpc-blast --target 127.0.0.1:PORT [--query ping|find_node|get_peers] [--sockets N]\n"
          "       [--sources 127.0.0.2-127.0.0.17] [--rates R1,R2,...] [--step-seconds S] [--gap-ms MS]\n"
          "       [--batch N] [--stop-loss PCT] [--server-pid PID] [--max-seconds S] [--quiet]\n",
          why);
  exit(2);
}

static uint32_t parse_ipv4(const char *text) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) usage_exit("not an IPv4 address");
  return ntohl(a.s_addr);
}

static void parse_target(const char *text, struct sockaddr_in *out) {
  char host[64];
  const char *colon = strrchr(text, ':');
  if (colon == NULL || (size_t)(colon - text) >= sizeof host) usage_exit("--target is HOST:PORT");
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = 0;
  long port = strtol(colon + 1, NULL, 10);
  if (port < 1 || port > 65535) usage_exit("bad target port");
  uint32_t ip = parse_ipv4(host);
  if (!is_loopback(ip)) usage_exit("the target must be in 127.0.0.0/8");
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons((uint16_t)port);
  out->sin_addr.s_addr = htonl(ip);
}

static void parse_sources(const char *text, struct options *o) {
  char first[64];
  const char *dash = strchr(text, '-');
  size_t len = dash ? (size_t)(dash - text) : strlen(text);
  if (len >= sizeof first) usage_exit("bad --sources");
  memcpy(first, text, len);
  first[len] = 0;
  uint32_t lo = parse_ipv4(first), hi = dash ? parse_ipv4(dash + 1) : lo;
  if (!is_loopback(lo) || !is_loopback(hi) || hi < lo || hi - lo >= MAX_SOURCES)
    usage_exit("--sources is a range of at most 256 addresses in 127.0.0.0/8");
  o->first_source = lo;
  o->source_count = hi - lo + 1;
}

static void parse_rates(const char *text, struct options *o) {
  char *copy = strdup(text), *save = NULL;
  o->step_count = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    double rate = atof(t);
    if (rate < 1 || rate > 1e7 || o->step_count == MAX_STEPS) usage_exit("--rates: 1 to 32 rates, each 1..1e7");
    o->rates[o->step_count++] = rate;
  }
  free(copy);
  if (o->step_count == 0) usage_exit("--rates is empty");
}

static void parse_options(int argc, char **argv, struct options *o) {
  static const struct option longs[] = {
      {"target", required_argument, 0, 't'},      {"query", required_argument, 0, 'q'},
      {"sockets", required_argument, 0, 'n'},     {"sources", required_argument, 0, 'i'},
      {"rates", required_argument, 0, 'R'},       {"step-seconds", required_argument, 0, 's'},
      {"gap-ms", required_argument, 0, 'g'},      {"batch", required_argument, 0, 'b'},
      {"stop-loss", required_argument, 0, 'L'},   {"server-pid", required_argument, 0, 'P'},
      {"max-seconds", required_argument, 0, 'M'}, {"quiet", no_argument, 0, 'Q'},
      {0, 0, 0, 0},
  };
  int has_target = 0;
  *o = (struct options){.query = "ping", .sockets = 8, .step_seconds = 5, .gap_ms = 500, .batch = 32,
                        .stop_loss_pct = 100, .max_seconds = MAX_RUN_SECONDS};
  o->first_source = 0x7f000001;
  o->source_count = 1;
  parse_rates("5000,10000,20000,40000", o);
  int c;
  while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
    switch (c) {
      case 't': parse_target(optarg, &o->target); has_target = 1; break;
      case 'q': o->query = optarg; break;
      case 'n': o->sockets = atoi(optarg); break;
      case 'i': parse_sources(optarg, o); break;
      case 'R': parse_rates(optarg, o); break;
      case 's': o->step_seconds = atof(optarg); break;
      case 'g': o->gap_ms = atoi(optarg); break;
      case 'b': o->batch = atoi(optarg); break;
      case 'L': o->stop_loss_pct = atof(optarg); break;
      case 'P': o->server_pid = atoi(optarg); break;
      case 'M': o->max_seconds = atof(optarg); break;
      case 'Q': o->is_quiet = 1; break;
      default: usage_exit("unknown option");
    }
  }
  if (!has_target) usage_exit("--target is required");
  if (strcmp(o->query, "ping") && strcmp(o->query, "find_node") && strcmp(o->query, "get_peers"))
    usage_exit("--query is ping, find_node or get_peers");
  if (o->sockets < 1 || o->sockets > MAX_SOCKETS) usage_exit("--sockets is 1..64");
  if (!(o->step_seconds > 0 && o->step_seconds <= MAX_STEP_SECONDS)) usage_exit("--step-seconds is (0, 60]");
  if (o->gap_ms < 0 || o->gap_ms > 5000) usage_exit("--gap-ms is 0..5000");
  if (o->batch < 1 || o->batch > MAX_BATCH) usage_exit("--batch is 1..64");
  if (!(o->max_seconds > 0) || o->max_seconds > MAX_RUN_SECONDS) o->max_seconds = MAX_RUN_SECONDS;
}

/*
 * Writes one bencoded query with a fresh random node id (and target) into out and returns its length;
 * *tid_offset is where its 4-byte transaction id goes. Keys in bencode order: a, q, t, y.
 */
static int make_query(const char *query, char *out, int *tid_offset) {
  unsigned char id[20], target[20];
  fill_random(id, sizeof id);
  fill_random(target, sizeof target);
  int n = 0;
  n += sprintf(out + n, "d1:ad2:id20:");
  memcpy(out + n, id, 20);
  n += 20;
  if (strcmp(query, "ping") != 0) {
    n += sprintf(out + n, strcmp(query, "find_node") == 0 ? "6:target20:" : "9:info_hash20:");
    memcpy(out + n, target, 20);
    n += 20;
  }
  n += sprintf(out + n, "e1:q%zu:%s1:t4:", strlen(query), query);
  *tid_offset = n;
  n += 4;
  n += sprintf(out + n, "1:y1:qe");
  return n;
}

/* The server's CPU seconds (utime + stime) and RSS in MB from /proc; 0 when there is no such process. */
static int sample_server(int pid, double *cpu_s, double *rss_mb) {
  char path[64], text[4096];
  if (pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  char *after_name = strrchr(text, ')');
  if (!after_name) return 0;
  unsigned long utime = 0, stime = 0;
  /* Fields after the name start at field 3 (state); utime and stime are fields 14 and 15. */
  if (sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return 0;
  *cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  f = fopen(path, "r");
  if (!f) return 0;
  *rss_mb = 0;
  while (fgets(text, sizeof text, f))
    if (strncmp(text, "VmRSS:", 6) == 0) *rss_mb = atof(text + 6) / 1024.0;
  fclose(f);
  return 1;
}

static double latency_percentile_ms(uint64_t count, double fraction) {
  if (count == 0) return -1;
  uint64_t rank = (uint64_t)(fraction * (double)(count - 1)), seen = 0;
  for (int i = 0; i < HISTOGRAM_BINS; i++) {
    seen += latency_bins[i];
    if (seen > rank) return (i + 0.5) * HISTOGRAM_BIN_MS;
  }
  return HISTOGRAM_BINS * HISTOGRAM_BIN_MS;
}

/* Matches one reply to its query; counts it. first_seq..next_seq are the sequence numbers sent in this step. */
static void take_reply(const char *p, int len, uint32_t first_seq, uint32_t next_seq, double now_s,
                       struct step_counts *c) {
  const char *t = memmem(p, (size_t)len, "1:t4:", 5);
  if (t == NULL || t + 9 > p + len) { c->bad_replies++; return; }
  uint32_t tid;
  memcpy(&tid, t + 5, 4);
  uint32_t seq = tid ^ tid_key, slot = seq & (RING_SLOTS - 1);
  int is_this_step = (uint32_t)(seq - first_seq) < (uint32_t)(next_seq - first_seq);
  if (!is_this_step || slot_seq[slot] != seq || is_answered[slot]) { c->bad_replies++; return; }
  is_answered[slot] = 1;
  if (memmem(p, (size_t)len, "1:y1:e", 6) != NULL) { c->krpc_errors++; return; }
  if (memmem(p, (size_t)len, "1:y1:r", 6) == NULL || memmem(p, (size_t)len, "2:id20:", 7) == NULL) {
    c->bad_replies++;
    return;
  }
  c->answered++;
  long bin = (long)((now_s - sent_at_s[slot]) * 1000.0 / HISTOGRAM_BIN_MS);
  if (bin < 0) bin = 0;
  if (bin >= HISTOGRAM_BINS) bin = HISTOGRAM_BINS - 1;
  latency_bins[bin]++;
}

int main(int argc, char **argv) {
  struct options o;
  parse_options(argc, argv, &o);
  fill_random(&tid_key, sizeof tid_key);
  sent_at_s = calloc(RING_SLOTS, sizeof *sent_at_s);
  slot_seq = calloc(RING_SLOTS, sizeof *slot_seq);
  is_answered = calloc(RING_SLOTS, 1);
  latency_bins = calloc(HISTOGRAM_BINS, sizeof *latency_bins);
  if (!sent_at_s || !slot_seq || !is_answered || !latency_bins) { perror("calloc"); return 1; }

  int fds[MAX_SOCKETS], query_len[MAX_SOCKETS], tid_offset[MAX_SOCKETS];
  static char queries[MAX_SOCKETS][QUERY_MAX_BYTES];
  for (int i = 0; i < o.sockets; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fds[i] < 0) { perror("socket"); return 1; }
    int buffer_bytes = 4 << 20;
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
    struct sockaddr_in source = {.sin_family = AF_INET};
    source.sin_addr.s_addr = htonl(o.first_source + (uint32_t)i % o.source_count);
    if (bind(fds[i], (struct sockaddr *)&source, sizeof source) < 0) { perror("bind"); return 1; }
    if (connect(fds[i], (struct sockaddr *)&o.target, sizeof o.target) < 0) { perror("connect"); return 1; }
    query_len[i] = make_query(o.query, queries[i], &tid_offset[i]);
  }

  static char send_bufs[MAX_BATCH][QUERY_MAX_BYTES], recv_bufs[MAX_BATCH][REPLY_MAX_BYTES];
  static struct iovec send_iov[MAX_BATCH], recv_iov[MAX_BATCH];
  static struct mmsghdr send_msgs[MAX_BATCH], recv_msgs[MAX_BATCH];
  for (int k = 0; k < MAX_BATCH; k++) {
    send_iov[k].iov_base = send_bufs[k];
    send_msgs[k].msg_hdr.msg_iov = &send_iov[k];
    send_msgs[k].msg_hdr.msg_iovlen = 1;
    recv_iov[k].iov_base = recv_bufs[k];
    recv_iov[k].iov_len = REPLY_MAX_BYTES;
    recv_msgs[k].msg_hdr.msg_iov = &recv_iov[k];
    recv_msgs[k].msg_hdr.msg_iovlen = 1;
  }
  struct pollfd pfds[MAX_SOCKETS];
  for (int i = 0; i < o.sockets; i++) pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};

  if (!o.is_quiet)
    fprintf(stderr, "%9s %9s %9s %7s %8s %8s %7s %8s\n", "offered", "sent/s", "answer/s", "loss%", "p50ms", "p99ms",
            "srvCPU%", "srvRSSMB");
  uint32_t next_seq = 0;
  int next_socket = 0;
  double run_end_s = monotonic_s() + o.max_seconds;
  for (int step = 0; step < o.step_count; step++) {
    double rate = o.rates[step];
    if (monotonic_s() + o.step_seconds > run_end_s) break;
    struct step_counts c = {0};
    memset(latency_bins, 0, HISTOGRAM_BINS * sizeof *latency_bins);
    uint32_t first_seq = next_seq;
    double cpu0 = 0, cpu1 = 0, rss_mb = 0;
    int has_server = sample_server(o.server_pid, &cpu0, &rss_mb);
    double start_s = monotonic_s(), send_end_s = start_s + o.step_seconds, drain_end_s = send_end_s + o.gap_ms / 1e3;
    for (;;) {
      double now_s = monotonic_s();
      if (now_s >= drain_end_s) break;
      int is_busy = 0;
      if (now_s < send_end_s) {
        int64_t due = (int64_t)((now_s - start_s) * rate) - (int64_t)c.sent;
        while (due > 0) {
          int i = next_socket;
          next_socket = (next_socket + 1) % o.sockets;
          int count = due < o.batch ? (int)due : o.batch;
          for (int k = 0; k < count; k++) {
            uint32_t seq = next_seq + (uint32_t)k, tid = seq ^ tid_key, slot = seq & (RING_SLOTS - 1);
            memcpy(send_bufs[k], queries[i], (size_t)query_len[i]);
            memcpy(send_bufs[k] + tid_offset[i], &tid, 4);
            send_iov[k].iov_len = (size_t)query_len[i];
            sent_at_s[slot] = now_s;
            slot_seq[slot] = seq;
            is_answered[slot] = 0;
          }
          int sent = sendmmsg(fds[i], send_msgs, (unsigned)count, 0);
          if (sent <= 0) { c.send_blocked++; break; }
          next_seq += (uint32_t)sent;
          c.sent += (uint64_t)sent;
          due -= sent;
          is_busy = 1;
          if (sent < count) { c.send_blocked++; break; }
        }
      }
      double received_s = monotonic_s();
      for (int i = 0; i < o.sockets; i++) {
        for (int round = 0; round < 4; round++) {
          int n = recvmmsg(fds[i], recv_msgs, MAX_BATCH, MSG_DONTWAIT, NULL);
          if (n <= 0) break;
          is_busy = 1;
          for (int k = 0; k < n; k++)
            take_reply(recv_bufs[k], (int)recv_msgs[k].msg_len, first_seq, next_seq, received_s, &c);
          if (n < MAX_BATCH) break;
        }
      }
      /* Idle (low rate, or draining): wait for a reply instead of spinning, at most until the next send is due. */
      if (!is_busy) {
        double wait_ms = now_s < send_end_s ? 1000.0 / rate : (drain_end_s - now_s) * 1000.0;
        if (wait_ms >= 1) poll(pfds, (nfds_t)o.sockets, wait_ms > 10 ? 10 : (int)wait_ms);
      }
    }
    double send_s = send_end_s - start_s, window_s = monotonic_s() - start_s;
    has_server = has_server && sample_server(o.server_pid, &cpu1, &rss_mb);
    double loss_pct = c.sent ? 100.0 * (double)(c.sent - c.answered) / (double)c.sent : 0;
    double p50 = latency_percentile_ms(c.answered, 0.5), p99 = latency_percentile_ms(c.answered, 0.99);
    char cpu_text[32] = "null", rss_text[32] = "null", p50_text[32] = "null", p99_text[32] = "null";
    if (has_server) {
      snprintf(cpu_text, sizeof cpu_text, "%.1f", 100.0 * (cpu1 - cpu0) / window_s);
      snprintf(rss_text, sizeof rss_text, "%.1f", rss_mb);
    }
    if (p50 >= 0) snprintf(p50_text, sizeof p50_text, "%.3f", p50);
    if (p99 >= 0) snprintf(p99_text, sizeof p99_text, "%.3f", p99);
    printf("{\"offeredPerS\":%.0f,\"sentPerS\":%.0f,\"answeredPerS\":%.0f,\"lossPct\":%.2f,\"p50Ms\":%s,"
           "\"p99Ms\":%s,\"krpcErrors\":%llu,\"badReplies\":%llu,\"sendBlocked\":%llu,\"serverCpuPct\":%s,"
           "\"serverRssMb\":%s}\n",
           rate, (double)c.sent / send_s, (double)c.answered / send_s, loss_pct, p50_text, p99_text,
           (unsigned long long)c.krpc_errors, (unsigned long long)c.bad_replies,
           (unsigned long long)c.send_blocked, cpu_text, rss_text);
    fflush(stdout);
    if (!o.is_quiet)
      fprintf(stderr, "%9.0f %9.0f %9.0f %7.2f %8s %8s %7s %8s\n", rate, (double)c.sent / send_s,
              (double)c.answered / send_s, loss_pct, p50_text, p99_text, cpu_text, rss_text);
    if (loss_pct > o.stop_loss_pct) break;
  }
  for (int i = 0; i < o.sockets; i++) close(fds[i]);
  return 0;
}
