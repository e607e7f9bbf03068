"""Estimated minutes of each PyTorch chapter on Colab's free GPU (an NVIDIA T4).

    python scripts/t4_estimates.py          # per stage, then the table of the README

These are estimates, not measurements: no T4 was available. For each training stage,
the FLOPs are 6 x (weights touched per token: recurrent layers and output layer) x
tokens trained, plus 2 x weights x tokens for evaluation, divided by an achieved share
of the T4's 8.1 TFLOPS float32 peak (NVIDIA's T4 datasheet): 35% for large matrices,
10% when H <= 256. The T4 has no native bf16, so the book trains in float32 there. A
latency floor competes with it: 0.05 ms per time step per layer and direction, for
the forward and again for the backward pass, plus 1 ms per optimizer step, and a
guessed 0.3 to 0.6 ms per step for the Python-loop cells. Each stage counts the larger
of the two. Work that stays on the CPU (n-gram baselines, NB-LR, tokenizing, the
fixed time budgets of chapter 11) keeps its time measured on 2 CPU cores. The medium
CPU seconds are those of the medium records. Totals are rounded up.
"""
import math
PEAK = 8.1e12                      # T4 FP32 peak, FLOP/s (NVIDIA T4 datasheet)
BIG, SMALL = 0.35 * PEAK, 0.10 * PEAK   # achieved: large matrices / H <= 256
TS, OPT = 0.05e-3, 1e-3            # s per time step per layer per pass; s per optimizer step
SCR = {"rnn": 0.3e-3, "gru": 0.6e-3, "lstm": 0.6e-3, "trunc": 0.4e-3}  # Python-loop cells, fwd+bwd per step (guess)
TM = 153_000                       # Time Machine training characters (90% of ~170k)
PTB, WIKI, REV = 930_000, 2_090_000, 6_700_000

def rnn_stage(params, tokens, B, T, layers_dirs=1, scratch=None, frac=None, H=None):
    """Training stage: max(FLOP time, latency floor). Returns seconds, detail."""
    frac = frac or (SMALL if (H or 0) <= 256 else BIG)
    flops = 6 * params * tokens
    steps = math.ceil(tokens / (B * T))
    per_step = T * (SCR[scratch] if scratch else 2 * TS * layers_dirs) + OPT
    t_flop, t_lat = flops / frac, steps * per_step
    return max(t_flop, t_lat), dict(flops=f"{flops:.2e}", steps=steps,
                                    ms_per_step=round(per_step * 1e3, 1),
                                    t_flop=round(t_flop, 1), t_lat=round(t_lat, 1))

def lstm(I, H): return 4 * (I + H) * H
def gru(I, H): return 3 * (I + H) * H
def rnn(I, H): return (I + H) * H

chapters = {}
def chapter(name, cpu_med_s, cpu_fixed_s, stages, note=""):
    rows, total = [], cpu_fixed_s
    for label, (t, d) in stages:
        rows.append((label, round(t, 1), d)); total += t
    chapters[name] = dict(cpu_fixed_s=cpu_fixed_s, stages=rows, total_s=round(total))
    return total

V = 28
# ---------- 03-rnn
m = chapter("03-rnn medium", 92.5, 30, [
  ("2 sampling schemes x 2 ep, nn.RNN 128", rnn_stage(rnn(V,128)+128*V, 2*2*TM, 16, 32, H=128)),
  ("4 truncation rules x 2 ep, Python-loop RNN", rnn_stage(rnn(V,128), 4*2*TM, 16, 32, scratch="trunc")),
  ("2 clipping runs x 1 ep, B=32", rnn_stage(rnn(V,128), 2*TM, 32, 32, H=128)),
  ("main nn.RNN 128, 48 ep", rnn_stage(rnn(V,128)+128*V, 48*TM, 16, 32, H=128)),
  ("race: nn.RNN 1 ep", rnn_stage(rnn(V,128), TM, 16, 32, H=128)),
  ("race: RNNScratch 1 ep", rnn_stage(rnn(V,128), TM, 16, 32, scratch="rnn")),
  ("validation passes (~64 epochs x 17 windows x 64 steps, fwd only)", (64*17*(64*TS+OPT), {})),
])
chapter("03-rnn full", None, 30, [
  ("2 schemes x 5 ep, nn.RNN 512, B32 T64", rnn_stage(rnn(V,512), 2*5*TM, 32, 64, H=512)),
  ("4 truncation rules x 5 ep, T=32", rnn_stage(rnn(V,512), 4*5*TM, 32, 32, scratch="trunc")),
  ("2 clipping runs (128 units)", rnn_stage(rnn(V,128), 2*TM, 32, 32, H=128)),
  ("main nn.RNN 512, 60 ep", rnn_stage(rnn(V,512)+512*V, 60*TM, 32, 64, H=512)),
  ("race nn.RNN + scratch, 1 ep each", (rnn_stage(rnn(V,512), TM, 32, 64, H=512)[0] + rnn_stage(rnn(V,512), TM, 32, 64, scratch="rnn")[0], {})),
  ("validation passes", (80*17*(64*TS+OPT), {})),
])
# ---------- 04-gru
chapter("04-gru medium", 128.3, 30, [
  ("GRUScratch 256, 80k chars", rnn_stage(gru(V,256), 80_000, 16, 32, scratch="gru")),
  ("main nn.GRU 256, 20 ep", rnn_stage(gru(V,256)+256*V, 20*TM, 16, 32, H=256)),
  ("validation passes", (22*17*(64*TS+OPT), {})),
])
chapter("04-gru full", None, 30, [
  ("GRUScratch 512, all 153k chars", rnn_stage(gru(V,512), TM, 32, 64, scratch="gru")),
  ("main nn.GRU 512, 60 ep", rnn_stage(gru(V,512)+512*V, 60*TM, 32, 64, H=512)),
  ("validation passes", (62*17*(64*TS+OPT), {})),
])
# ---------- 05-lstm
chapter("05-lstm medium", 133.4, 30, [
  ("race: LSTMScratch 256, 3 ep", rnn_stage(lstm(V,256), 3*TM, 16, 32, scratch="lstm")),
  ("race: nn.LSTM 256, 3 ep", rnn_stage(lstm(V,256), 3*TM, 16, 32, H=256)),
  ("main nn.LSTM 512, 10 ep", rnn_stage(lstm(V,512)+512*V, 10*TM, 16, 32, H=512)),
  ("validation passes", (16*17*(64*TS+OPT), {})),
])
chapter("05-lstm full", None, 30, [
  ("race: LSTMScratch 512, 5 ep", rnn_stage(lstm(V,512), 5*TM, 32, 64, scratch="lstm")),
  ("race: nn.LSTM 512, 5 ep", rnn_stage(lstm(V,512), 5*TM, 32, 64, H=512)),
  ("main nn.LSTM 1024, 40 ep", rnn_stage(lstm(V,1024)+1024*V, 40*TM, 32, 64, H=1024)),
  ("validation passes", (50*17*(64*TS+OPT) + 2*50*lstm(V,1024)*17_000/BIG, {})),
])
# ---------- 05-long-range-memory (recall models stay on the CPU)
chapter("05-long-range-memory medium", 346.9, 150 + 30, [
  ("text: 3 seeds x 3 cells x 10 ep, H 61-128", rnn_stage(lstm(V,61), 9*10*TM, 16, 32, H=128)),
  ("text: larger nn.LSTM 512, 10 ep", rnn_stage(lstm(V,512)+512*V, 10*TM, 16, 32, H=512)),
  ("validation passes", (100*17*(64*TS+OPT), {})),
])
chapter("05-long-range-memory full", None, 2*150 + 30, [
  ("text: 5 seeds x 3 cells x 40 ep", rnn_stage(lstm(V,61), 15*40*TM, 16, 32, H=128)),
  ("text: larger nn.LSTM 1024, 40 ep", rnn_stage(lstm(V,1024)+1024*V, 40*TM, 16, 32, H=1024)),
  ("validation passes", (640*17*(64*TS+OPT), {})),
])
# ---------- 06
deep512 = lstm(V,512) + lstm(512,512) + 512*V
deep1024 = lstm(V,1024) + lstm(1024,1024) + 1024*V
chapter("06-deep-bidirectional-rnns medium", 571.6, 30, [
  ("main deep LSTM 2x512, 25 ep", rnn_stage(deep512, 25*TM, 16, 32, layers_dirs=2, H=512)),
  ("bidirectional 128, 4 ep", rnn_stage(2*lstm(V,128), 4*TM, 16, 32, layers_dirs=2, H=128)),
  ("small deep 2x128, 4 ep", rnn_stage(lstm(V,128)+lstm(128,128), 4*TM, 16, 32, layers_dirs=2, H=128)),
  ("slip model, 4 ep", rnn_stage(lstm(V,128), 4*TM, 16, 32, H=128)),
  ("RNNScratch 128, 4 ep", rnn_stage(rnn(V,128), 4*TM, 16, 32, scratch="rnn")),
  ("nn.RNN, nn.GRU, nn.LSTM 128, 4 ep each", (3*rnn_stage(lstm(V,128), 4*TM, 16, 32, H=128)[0], {})),
  ("left-context scoring 2 x 2000 positions (~2.5 ms each, guess)", (2*2000*2.5e-3, {})),
  ("validation passes", (55*17*(64*TS*2+OPT), {})),
])
chapter("06-deep-bidirectional-rnns full", None, 30, [
  ("main deep LSTM 2x1024, 40 ep", rnn_stage(deep1024, 40*TM, 32, 64, layers_dirs=2, H=1024)),
  ("bidirectional 512, 10 ep", rnn_stage(2*lstm(V,512), 10*TM, 32, 64, layers_dirs=2, H=512)),
  ("small deep 2x512, 10 ep", rnn_stage(deep512, 10*TM, 32, 64, layers_dirs=2, H=512)),
  ("slip model 512, 10 ep", rnn_stage(lstm(V,512), 10*TM, 32, 64, H=512)),
  ("RNNScratch 512, 10 ep", rnn_stage(rnn(V,512), 10*TM, 32, 64, scratch="rnn")),
  ("nn.RNN, nn.GRU, nn.LSTM 512, 10 ep each", (3*rnn_stage(lstm(V,512), 10*TM, 32, 64, H=512)[0], {})),
  ("left-context scoring", (2*2000*3e-3, {})),
  ("validation passes (FLOPs)", (2*deep1024*17_000*40/BIG + 100*17*(64*TS*2+OPT), {})),
])
# ---------- 07-language-models-torch (PTB; KN baselines on the CPU)
p_med = 2*lstm(200,200) + 200*10_000
p_full = 2*lstm(1500,1500) + 1500*10_000
chapter("07-language-models-torch medium", 1460.0, 30, [
  ("2x200 LSTM, tied, 15 ep, B20 T35", rnn_stage(p_med, 15*PTB, 20, 35, layers_dirs=2, H=200)),
  ("validation each epoch + test (83k tokens, B10 T35)", (16*(2*p_med*80_000/SMALL + 80_000/350*(35*2*TS+OPT)), {})),
])
chapter("07-language-models-torch full", None, 30, [
  ("2x1500 LSTM, tied, 40 ep, fp32 on T4", rnn_stage(p_full, 40*PTB, 20, 35, layers_dirs=2, H=1500)),
  ("validation each epoch + test", (41*(2*p_full*80_000/BIG + 80_000/350*(35*2*TS+OPT)), {})),
])
# ---------- 08-sentiment-torch (IMDB; bucketed batches, mean length ~270 after keep-last-500)
Tm = 270; Ntr = 22_500
bi64 = 2*lstm(96,64)
bi256x2 = 2*lstm(256,256) + 2*lstm(512,256)
chapter("08-sentiment-torch medium", 1343.5, 180, [
  ("BiLSTM 64, 5 ep", rnn_stage(bi64, 5*Ntr*Tm, 64, Tm, layers_dirs=2, H=64)),
  ("bag of embeddings, 4 ep (~2 ms/step, guess)", (4*352*2e-3, {})),
  ("validation each epoch + test 25k (fwd, 256/batch)", ((5*10+98)*(Tm*2*TS+OPT), {})),
])
chapter("08-sentiment-torch full", None, 180, [
  ("BiLSTM 2x256, 8 ep", rnn_stage(bi256x2, 8*Ntr*Tm, 64, Tm, layers_dirs=4, H=256)),
  ("bag of embeddings, 6 ep", (6*352*2e-3, {})),
  ("validation each epoch + test (FLOPs)", (2*bi256x2*(8*2500+25_000)*Tm/SMALL, {})),
])
# ---------- 10-transfer-learning
def clf_runs(runs, T, bi_params, lm_params, H_bi, H_lm):
    t = 0; d = []
    for size, epochs, n_bi, n_lm in runs:
        tok = size*T*epochs
        if n_bi:
            s, dd = rnn_stage(bi_params, tok, 32, T, layers_dirs=2, H=H_bi); t += n_bi*s; d.append((size, 'bi', n_bi, dd))
        if n_lm:
            s, dd = rnn_stage(lm_params, tok, 32, T, layers_dirs=1, H=H_lm); t += n_lm*s; d.append((size, 'lm', n_lm, dd))
    return t, d
lm256 = lstm(100,256) + 256*2002 + int(0.15*(256*64 + 4000*64))   # adaptive softmax head + tail share
lm1024 = lstm(100,1024) + 1024*4002 + int(0.10*(1024*256+8000*256)) + int(0.04*(1024*64+18000*64))
# NB-LR (uni- to trigrams, whole reviews) stays on the CPU: about 2 minutes in all
chapter("10-transfer-learning medium", 2272.5, 120 + 120, [
  ("stage 1: LM on WikiText-2, 1 pass", rnn_stage(lm256, WIKI, 32, 50, H=256)),
  ("stage 2: LM on review text, 2 passes", rnn_stage(lm256, 2*REV, 32, 50, H=256)),
  ("classifiers (500x12 ep: 2 BiLSTM + 3 LM nets; 2000x6: 2+2; 24000x3: 2+1); LM nets timed as BiLSTM (conservative)",
      clf_runs([(500,12,5,0),(2000,6,4,0),(24_000,3,3,0)], 170, 2*lstm(100,64), lstm(100,256), 64, 256)),
  ("test 25k and validation 1k x 12 runs + validation each epoch",
      (12*102*(170*2*TS+OPT) + 100*4*(170*2*TS+OPT), {})),
])
chapter("10-transfer-learning full", None, 180 + 120, [
  ("stage 1: LM 1024 on WikiText-2", rnn_stage(lm1024, WIKI, 64, 70, H=1024)),
  ("stage 2: LM 1024 on reviews, 2 passes", rnn_stage(lm1024, 2*REV, 64, 70, H=1024)),
  ("classifiers (500x20: 2 BiLSTM + 3 LM; 2000x10: 2+2; 22500x4: 2+2)",
      clf_runs([(500,20,2,3),(2000,10,2,2),(22_500,4,2,2)], 280, 2*lstm(100,256), lstm(100,1024), 256, 1024)),
  ("test 25k x 13 runs + validation each epoch (FLOPs)",
      ((7*25_000*280*2*lstm(100,1024) + 88*2500*280*2*lstm(100,1024))/BIG
       + (6*25_000*280*2*2*lstm(100,256) + 68*2500*280*2*2*lstm(100,256))/SMALL, {})),
])
# ---------- 11-recurrence-revisited (the scan timings stay on the CPU; the equal-time
# runs take a fixed wall time; the recall readers train on the GPU)
chapter("11-recurrence-revisited medium", 934.7, 333 + 3*120, [
  ("main LMs: LSTM 2x256, minGRU, Transformer, 12 ep each (~14 ms/step incl. guess for minGRU/Transformer)", (3*12*75*14e-3, {})),
  ("validation passes", (3*12*0.5, {})),
])
chapter("11-recurrence-revisited full", None,
        3*1200 + 8.2e13/1e11 + 120, [
  ("recall readers, 10,000 updates x 5 N x 5 readers",
      (max(16*8.2e13/BIG, 250_000*3e-3), {})),
  ("main LMs 4x512, 40 ep each: LSTM", rnn_stage(4*lstm(512,512), 40*TM, 32, 64, layers_dirs=4, H=512)),
  ("minGRU 4x512 (assume as LSTM)", rnn_stage(4*lstm(512,512), 40*TM, 32, 64, layers_dirs=4, H=512)),
  ("Transformer 4x512 (12 H^2 per layer)", rnn_stage(4*12*512*512, 40*TM, 32, 64, layers_dirs=0, H=512)),
])
for k, v in chapters.items():
    print(f"\n## {k}: total {v['total_s']} s = {v['total_s']/60:.1f} min (CPU-bound part {v['cpu_fixed_s']:.0f} s)")
    for label, t, d in v["stages"]:
        print(f"  - {label}: {t} s  {d if d else ''}")
print("\n| chapter | medium on a T4 (min) | full on a T4 (min) |\n| --- | ---: | ---: |")
for name in dict.fromkeys(k.rsplit(" ", 1)[0] for k in chapters):
    medium, full = (chapters.get(f"{name} {p}", {}).get("total_s") for p in ("medium", "full"))
    print(f"| {name} | {math.ceil(medium / 60)} | {math.ceil(full / 60)} |")
