"""Open-time features for itsm_incidents resolution-minutes experiments.

All times are in whole minutes since the Unix epoch (naive local time, as in the CSV).
"""
import csv
import os
import heapq
from datetime import datetime

import numpy as np

DATA = os.path.join(os.environ.get("DATASETS", "../shared/datasets"), "itsm_incidents")
FIELDS = ["contact_type", "location", "category", "subcategory", "u_symptom",
          "impact", "urgency", "priority"]
MIN_COUNT = 5
EPOCH = datetime(1970, 1, 1)
LOG_START = datetime(2016, 2, 29)  # first opened_at day in the log


def minute(s):
    if not s:
        return None
    return int((datetime.strptime(s, "%Y-%m-%d %H:%M") - EPOCH).total_seconds()) // 60


def read(name):
    rows = list(csv.DictReader(open(f"{DATA}/{name}", newline="", encoding="utf-8")))
    for r in rows:
        r["_open"] = minute(r["opened_at"])
        r["_res"] = r["_open"] + int(r["resolution_minutes"]) if r["resolution_minutes"] else None
        r["_closed"] = minute(r["closed_at"])
        w = datetime.strptime(r["opened_at"], "%Y-%m-%d %H:%M")
        r["hour"], r["weekday"] = str(w.hour), str(w.weekday())
        r["_num"] = int(r["number"][3:])
    return rows


def y_of(rows):
    return np.array([float(r["resolution_minutes"]) if r["resolution_minutes"] else np.nan for r in rows])


# ---------------------------------------------------------------- base (as compare-ml-predict.sh)
def file_load(rows):
    """open now / opened in last 24h, counted inside this file only, each over its mean in this file."""
    opened = [r["_open"] for r in rows]
    starts = np.sort(opened)
    ends = np.sort([r["_res"] for r in rows if r["_res"] is not None])
    t = np.array(opened)
    before = np.searchsorted(starts, t, "left")
    open_now = before - np.searchsorted(ends, t, "right")
    last_day = before - np.searchsorted(starts, t - 1440, "left")
    return np.column_stack([open_now / open_now.mean(), last_day / last_day.mean()])


class Base:
    def __init__(self, train, min_count=MIN_COUNT):
        self.columns = FIELDS + ["hour", "weekday"]
        self.vocab = []
        for c in self.columns:
            counts = {}
            for r in train:
                counts[r[c]] = counts.get(r[c], 0) + 1
            keep = sorted(v for v, n in counts.items() if n >= min_count)
            self.vocab.append({v: i for i, v in enumerate(keep)})
        tl = file_load(train)
        self.edges = [np.unique(np.round(np.quantile(tl[:, k], np.arange(1, 16) / 16), 3)) for k in range(2)]

    def matrix(self, rows):
        load = file_load(rows)
        codes = [[self.vocab[j].get(r[c], len(self.vocab[j])) for j, c in enumerate(self.columns)] for r in rows]
        bands = np.column_stack([np.searchsorted(self.edges[k], load[:, k], "right") for k in range(2)])
        X = np.column_stack([np.array(codes), bands]).astype(float)
        names = self.columns + ["load_open_band", "load_day_band"]
        return X, names, [True] * X.shape[1]


# ---------------------------------------------------------------- 1. time trend
def trend(rows):
    days = np.array([(datetime.strptime(r["opened_at"], "%Y-%m-%d %H:%M") - LOG_START).total_seconds() / 86400
                     for r in rows])
    month = np.array([datetime.strptime(r["opened_at"], "%Y-%m-%d %H:%M").month for r in rows], float)
    return np.column_stack([days, month]), ["days_since_start", "month"], [False, True]


# ---------------------------------------------------------------- 2. past resolutions of similar incidents
def past_resolution(history, rows, keys, recent=25):
    """For each row and key: among history incidents with the same key value whose resolved_at < row.opened_at
    (strictly; this excludes the row itself), the count, the median resolution_minutes (log1p), and the
    median of the last `recent` resolved ones (log1p). Empty key values count as a value of their own."""
    cols, names = [], []
    for key in keys:
        groups = {}
        for h in history:
            if h["_res"] is not None:
                groups.setdefault(h[key], []).append((h["_res"], int(h["resolution_minutes"])))
        prepared = {}
        for v, lst in groups.items():
            lst.sort()
            res_t = np.array([a for a, _ in lst])
            vals = np.array([b for _, b in lst], float)
            # running median of prefix
            lo, hi, med = [], [], np.empty(len(vals))
            for i, x in enumerate(vals):
                if not lo or x <= -lo[0]:
                    heapq.heappush(lo, -x)
                else:
                    heapq.heappush(hi, x)
                if len(lo) > len(hi) + 1:
                    heapq.heappush(hi, -heapq.heappop(lo))
                elif len(hi) > len(lo):
                    heapq.heappush(lo, -heapq.heappop(hi))
                med[i] = -lo[0] if len(lo) > len(hi) else (-lo[0] + hi[0]) / 2
            prepared[v] = (res_t, vals, med)
        cnt = np.zeros(len(rows))
        m_all = np.full(len(rows), np.nan)
        m_rec = np.full(len(rows), np.nan)
        for i, r in enumerate(rows):
            p = prepared.get(r[key])
            if p is None:
                continue
            res_t, vals, med = p
            k = np.searchsorted(res_t, r["_open"], "left")
            cnt[i] = k
            if k:
                m_all[i] = np.log1p(med[k - 1])
                m_rec[i] = np.log1p(np.median(vals[max(0, k - recent):k]))
        cols += [cnt, m_all, m_rec]
        names += [f"past_{key}_n", f"past_{key}_med", f"past_{key}_med_last{recent}"]
    return np.column_stack(cols), names, [False] * len(names)


# ---------------------------------------------------------------- 3. load per key (train+dev openings)
def key_load(universe, rows, keys, windows=(60, 1440)):
    """For each row and key (key None = all incidents): among universe incidents (train+dev) with the same key
    value, other than the row itself:
      open_now  = #opened_at < t  minus  #end < t   where end = resolved_at, else closed_at
      opened_w  = #opened_at in [t-w, t) for each window w (minutes)."""
    cols, names = [], []
    for key in keys:
        groups = {}
        for u in universe:
            kv = u[key] if key else ""
            end = u["_res"] if u["_res"] is not None else u["_closed"]
            groups.setdefault(kv, ([], []))
            groups[kv][0].append(u["_open"])
            groups[kv][1].append(end)
        groups = {k: (np.sort(a), np.sort(b)) for k, (a, b) in groups.items()}
        out = np.zeros((len(rows), 1 + len(windows)))
        for i, r in enumerate(rows):
            g = groups.get(r[key] if key else "")
            if g is None:
                continue
            starts, ends = g
            t = r["_open"]
            before = np.searchsorted(starts, t, "left")
            out[i, 0] = before - np.searchsorted(ends, t, "left")
            for j, w in enumerate(windows):
                out[i, 1 + j] = before - np.searchsorted(starts, t - w, "left")
        cols.append(out)
        kn = key or "all"
        names += [f"load_{kn}_open"] + [f"load_{kn}_opened_{w}m" for w in windows]
    return np.column_stack(cols), names, [False] * len(names)


# ---------------------------------------------------------------- 4. extras
def extras(universe, rows):
    """number (sequential, assigned at creation), number minus the number expected from opened_at (rank gap),
    minute-of-hour == 0 flag, minutes since previous opening at same location and same caller-less key."""
    nums = np.array([u["_num"] for u in universe], float)
    opens = np.array([u["_open"] for u in universe], float)
    order = np.argsort(opens, kind="stable")
    so, sn = opens[order], nums[order]
    # expected number at an open time: interpolate number over time using universe (monotone fit via running max)
    sn_mono = np.maximum.accumulate(sn)
    num = np.array([r["_num"] for r in rows], float)
    t = np.array([r["_open"] for r in rows], float)
    expected = np.interp(t, so, sn_mono)
    gap = num - expected
    minute0 = np.array([r["opened_at"].endswith(":00") for r in rows], float)
    # minutes since previous opening with same location / category (strictly before)
    since = []
    for key in ("location", "category"):
        g = {}
        for u in universe:
            g.setdefault(u[key], []).append(u["_open"])
        g = {k: np.sort(v) for k, v in g.items()}
        s = np.full(len(rows), np.nan)
        for i, r in enumerate(rows):
            a = g[r[key]]
            k = np.searchsorted(a, r["_open"], "left")
            if k:
                s[i] = r["_open"] - a[k - 1]
        since.append(s)
    X = np.column_stack([num, gap, minute0] + since)
    return X, ["number", "number_gap", "minute0", "since_prev_location", "since_prev_category"], [False] * 5


def suspect(rows):
    X = np.column_stack([[r["knowledge"] == "true" for r in rows],
                         [r["u_priority_confirmation"] == "true" for r in rows]]).astype(float)
    return X, ["knowledge", "u_priority_confirmation"], [True, True]


# ---------------------------------------------------------------- 4b. throughput: share of recent openings already resolved
def throughput(universe, rows, keys, windows=((0, 1440), (0, 10080), (10080, 43200))):
    """For each row (open time t), key (None = all) and window (a, b) in minutes: among universe incidents (train+dev,
    the row itself excluded since it opens at t) with the same key value opened in [t-b, t-a), the share whose end
    (resolved_at, else closed_at) is < t, and the count. NaN share when the count is 0."""
    cols, names = [], []
    for key in keys:
        g = {}
        for u in universe:
            end = u["_res"] if u["_res"] is not None else u["_closed"]
            g.setdefault(u[key] if key else "", []).append((u["_open"], end))
        g = {k: (np.array([a for a, _ in sorted(v)]), np.array([b for _, b in sorted(v)])) for k, v in g.items()}
        for (a, b) in windows:
            share = np.full(len(rows), np.nan); cnt = np.zeros(len(rows))
            for i, r in enumerate(rows):
                opens, ends = g[r[key] if key else ""]
                t = r["_open"]
                lo, hi = np.searchsorted(opens, t - b, "left"), np.searchsorted(opens, t - a, "left")
                n = hi - lo
                cnt[i] = n
                if n:
                    share[i] = (ends[lo:hi] < t).mean()
            cols += [share, cnt]
            kn = key or "all"
            names += [f"done_{kn}_{a}_{b}", f"n_{kn}_{a}_{b}"]
    return np.column_stack(cols), names, [False] * len(names)


# ---------------------------------------------------------------- 4c. the previous incident with the same key combination
def previous_same(universe, rows, combos):
    """For each row (open time t) and key combination: the latest universe incident (train+dev) with the same
    values opened strictly before t. Features: log1p(minutes since it opened); whether it was resolved before t
    (end = resolved_at, else closed_at; 1/0); log1p of its resolution minutes if resolved before t else NaN.
    NaN everywhere when there is no such incident. Rows with an empty value in the combination get NaN."""
    cols, names = [], []
    for combo in combos:
        g = {}
        for u in universe:
            if any(u[c] == "" for c in combo):
                continue
            end = u["_res"] if u["_res"] is not None else u["_closed"]
            g.setdefault(tuple(u[c] for c in combo), []).append((u["_open"], end))
        g = {k: (np.array([a for a, _ in sorted(v)]), np.array([b for _, b in sorted(v)])) for k, v in g.items()}
        since = np.full(len(rows), np.nan); done = np.full(len(rows), np.nan); dur = np.full(len(rows), np.nan)
        for i, r in enumerate(rows):
            p = g.get(tuple(r[c] for c in combo))
            if p is None:
                continue
            opens, ends = p
            t = r["_open"]
            k = np.searchsorted(opens, t, "left")
            if k == 0:
                continue
            since[i] = np.log1p(t - opens[k - 1])
            d = ends[k - 1] < t
            done[i] = float(d)
            if d:
                dur[i] = np.log1p(ends[k - 1] - opens[k - 1])
        kn = "+".join(combo)
        cols += [since, done, dur]
        names += [f"prev_{kn}_since", f"prev_{kn}_done", f"prev_{kn}_dur"]
    return np.column_stack(cols), names, [False] * len(names)


# ---------------------------------------------------------------- 4d. out-of-fold target statistics per key
def target_stats(train, rows, keys, fold=None, prior=20):
    """For each key (tuple of fields): smoothed mean of log1p(resolution_minutes) and smoothed share of
    resolution_minutes > 10080 (7 days) over train incidents with that value, shrunk to the global value with
    `prior` pseudo-counts. For train rows (fold given) the statistics come from the other 4 folds (number % 5)."""
    y = np.array([np.log1p(float(r["resolution_minutes"])) if r["resolution_minutes"] else np.nan for r in train])
    tf = np.array([r["_num"] % 5 for r in train])
    cols, names = [], []
    for key in keys:
        kv = [tuple(r[c] for c in key) for r in train]
        kr = [tuple(r[c] for c in key) for r in rows]
        def stats(mask):
            s, s2, n = {}, {}, {}
            for k, v, m in zip(kv, y, mask):
                if m and not np.isnan(v):
                    s[k] = s.get(k, 0) + v; s2[k] = s2.get(k, 0) + (v > np.log1p(10080)); n[k] = n.get(k, 0) + 1
            ym = np.nanmean(y[mask]); yl = np.nanmean(y[mask] > np.log1p(10080))
            return s, s2, n, ym, yl
        a = np.full(len(rows), np.nan); b = np.full(len(rows), np.nan)
        folds = range(5) if fold is not None else [None]
        for f in folds:
            mask = (tf != f) if f is not None else np.ones(len(train), bool)
            s, s2, n, ym, yl = stats(mask)
            for i, k in enumerate(kr):
                if f is not None and fold[i] != f:
                    continue
                c = n.get(k, 0)
                a[i] = (s.get(k, 0) + prior * ym) / (c + prior)
                b[i] = (s2.get(k, 0) + prior * yl) / (c + prior)
        kn = "+".join(key)
        cols += [a, b]; names += [f"te_{kn}_mean", f"te_{kn}_long"]
    return np.column_stack(cols), names, [False] * len(names)
