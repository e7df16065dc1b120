/*
 * notavm probe: prints what the calling process can see of its kernel, namespaces,
 * cgroups and machine as "key=value" lines, then a marker line, then execs the
 * command it was given, so that the program runs as this very process: same pid,
 * same namespaces, same cgroups, same credentials. The probe writes only to stdout
 * and only before the marker, so everything after the marker is the program's own.
 *
 * Static, no libc facilities beyond syscalls and /proc reads: it has to run in a
 * FROM-scratch container, on the host and inside the VM alike.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MARKER "--notavm-probe-end--"
#define CGROUP2_MAGIC 0x63677270

static void emit(const char *key, const char *value) {
    /* values are single lines; newlines inside them are replaced by spaces */
    printf("%s=", key);
    for (const char *p = value; *p; p++) putchar(*p == '\n' ? ' ' : *p);
    putchar('\n');
}

static int read_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    return 0;
}

static void emit_file(const char *key, const char *path) {
    char buf[4096];
    if (read_file(path, buf, sizeof buf) == 0) emit(key, buf);
}

static void emit_status_fields(void) {
    static const char *wanted[] = {"CapEff", "CapBnd", "Seccomp", "NoNewPrivs", "Uid", NULL};
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        for (int i = 0; wanted[i]; i++) {
            size_t len = strlen(wanted[i]);
            if (strncmp(line, wanted[i], len) == 0 && line[len] == ':') {
                char key[64], *v = line + len + 1;
                while (*v == ' ' || *v == '\t') v++;
                v[strcspn(v, "\n")] = '\0';
                snprintf(key, sizeof key, "status.%s", wanted[i]);
                emit(key, v);
            }
        }
    }
    fclose(f);
}

static void emit_meminfo(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned long kb;
        if (sscanf(line, "MemTotal: %lu kB", &kb) == 1) {
            char v[32];
            snprintf(v, sizeof v, "%lu", kb * 1024);
            emit("mem_total_bytes", v);
        }
    }
    fclose(f);
}

static void emit_namespaces(void) {
    DIR *d = opendir("/proc/self/ns");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], target[256], key[300];
        snprintf(path, sizeof path, "/proc/self/ns/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) continue;
        target[n] = '\0';
        snprintf(key, sizeof key, "ns.%s", e->d_name);
        emit(key, target);
    }
    closedir(d);
}

/* The cgroup a controller puts us in, from /proc/self/cgroup ("" for v2's unified line). */
static int cgroup_path(const char *controller, char *out, size_t size) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return -1;
    char line[1024];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        char *list = c1 + 1;
        int match = 0;
        if (controller[0] == '\0') {
            match = list[0] == '\0';
        } else {
            for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
                if (strcmp(tok, controller) == 0) match = 1;
        }
        if (match) {
            snprintf(out, size, "%s", c2 + 1);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

/* A limit file in our own cgroup; a private cgroup view (cgroup namespace, or a
 * container runtime mounting only its own subtree) shows it at the mount's root. */
static int read_limit(const char *mount, const char *controller, const char *file,
                      char *out, size_t size) {
    char cg[1024], path[2048];
    if (cgroup_path(controller, cg, sizeof cg) == 0 && strcmp(cg, "/") != 0) {
        snprintf(path, sizeof path, "%s%s/%s", mount, cg, file);
        if (read_file(path, out, size) == 0) return 0;
    }
    snprintf(path, sizeof path, "%s/%s", mount, file);
    return read_file(path, out, size);
}

static void emit_limit(const char *key, const char *mount, const char *controller,
                       const char *file) {
    char value[128];
    if (read_limit(mount, controller, file, value, sizeof value) == 0) emit(key, value);
}

static void emit_cgroups(void) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            emit("cgroup", line);
        }
        fclose(f);
    }
    struct statfs sfs;
    if (statfs("/sys/fs/cgroup", &sfs) != 0) {
        emit("cgroup.version", "unknown");
        return;
    }
    if ((unsigned long)sfs.f_type == CGROUP2_MAGIC) {
        emit("cgroup.version", "2");
        emit_limit("limit.memory", "/sys/fs/cgroup", "", "memory.max");
        emit_limit("limit.pids", "/sys/fs/cgroup", "", "pids.max");
        emit_limit("limit.cpu", "/sys/fs/cgroup", "", "cpu.max");
        return;
    }
    emit("cgroup.version", access("/sys/fs/cgroup/unified", F_OK) == 0 ? "1 (hybrid)" : "1");
    emit_limit("limit.memory", "/sys/fs/cgroup/memory", "memory", "memory.limit_in_bytes");
    emit_limit("limit.pids", "/sys/fs/cgroup/pids", "pids", "pids.max");
    const char *cpu = access("/sys/fs/cgroup/cpu", F_OK) == 0 ? "/sys/fs/cgroup/cpu"
                                                               : "/sys/fs/cgroup/cpu,cpuacct";
    char quota[64], period[64], both[160];
    if (read_limit(cpu, "cpu", "cpu.cfs_quota_us", quota, sizeof quota) == 0 &&
        read_limit(cpu, "cpu", "cpu.cfs_period_us", period, sizeof period) == 0) {
        /* same "quota period" shape as cgroup v2's cpu.max */
        snprintf(both, sizeof both, "%s %s", strcmp(quota, "-1") ? quota : "max", period);
        emit("limit.cpu", both);
    }
}

static void emit_processes(void) {
    DIR *d = opendir("/proc");
    if (!d) return;
    struct dirent *e;
    int count = 0;
    char list[4096] = "";
    size_t used = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        count++;
        char path[300], comm[64] = "?";
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        read_file(path, comm, sizeof comm);
        if (count <= 40 && used < sizeof list - 100)
            used += snprintf(list + used, sizeof list - used, "%s%s:%s", count > 1 ? " " : "",
                             e->d_name, comm);
    }
    closedir(d);
    char n[16];
    snprintf(n, sizeof n, "%d", count);
    emit("visible_process_count", n);
    emit("visible_processes", list);
}

int main(int argc, char **argv) {
    struct utsname u;
    char buf[64];
    if (uname(&u) == 0) {
        emit("kernel.release", u.release);
        emit("kernel.version", u.version);
        emit("kernel.machine", u.machine);
        emit("hostname", u.nodename);
    }
    emit_file("kernel.boot_id", "/proc/sys/kernel/random/boot_id");
    emit_file("uptime", "/proc/uptime");
    snprintf(buf, sizeof buf, "%d", (int)getpid());
    emit("pid", buf);
    emit_namespaces();
    emit_cgroups();
    emit_processes();
    emit_meminfo();
    snprintf(buf, sizeof buf, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    emit("cpus.online", buf);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        snprintf(buf, sizeof buf, "%d", CPU_COUNT(&set));
        emit("cpus.allowed", buf);
    }
    emit_status_fields();
    puts(MARKER);
    fflush(stdout);

    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
    if (first >= argc) return 0;
    execvp(argv[first], argv + first);
    fprintf(stderr, "notavm-probe: cannot exec %s: %s\n", argv[first], strerror(errno));
    return 127;
}
