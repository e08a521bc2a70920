"""Train nano-sort: a tiny GPT-2 that sorts 6 letters from {A, B, C}.

    python -m tracer.nano_sort.train            # reproduces the shipped checkpoint

Each training sequence is 6 random letters followed by the same letters sorted,
e.g. C B A B B C | A B B B C C. As in Karpathy's minGPT sort demo, the last token is
dropped so the sequence fits the 11-token context, and the loss is taken only where
the model predicts a sorted letter (positions 5..10): the input letters are random,
so predicting them would only add noise. The model is the stock transformers
GPT2LMHeadModel, trained with a plain AdamW loop.
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from tracer.nano_sort import CHECKPOINT_DIR, LETTERS

N_LETTERS = 6  # letters to sort; the model generates the same number
CONTEXT = 2 * N_LETTERS - 1  # 11: the 6th sorted letter is predicted, never fed back


def make_config() -> GPT2Config:
    return GPT2Config(
        vocab_size=len(LETTERS),
        n_positions=CONTEXT,
        n_layer=3,
        n_head=3,
        n_embd=48,  # head size 16
        n_inner=192,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        # There are no special tokens in a 3-letter vocabulary; None keeps `generate`
        # from stopping at (or padding with) a real letter.
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
    )


def random_batch(batch_size: int, generator: torch.Generator):
    """Inputs and targets for next-token prediction; targets are -100 (ignored) on the unsorted half."""
    letters = torch.randint(len(LETTERS), (batch_size, N_LETTERS), generator=generator)  # (B, 6)
    sequence = torch.cat([letters, letters.sort(dim=1).values], dim=1)  # (B, 12)
    inputs = sequence[:, :-1]  # (B, 11)
    targets = sequence[:, 1:].clone()  # (B, 11): targets[:, t] is the token after inputs[:, t]
    targets[:, : N_LETTERS - 1] = -100  # positions 0..4 would predict the random input letters
    return inputs, targets


def loss_on(model: GPT2LMHeadModel, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    # Our own loss rather than `labels=`: GPT2LMHeadModel shifts labels inside the
    # sequence, which would lose the target of the last position (the 6th sorted letter).
    logits = model(input_ids=inputs).logits  # (B, 11, vocab)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)


def all_inputs() -> torch.Tensor:
    """Every possible input: all 3^6 = 729 strings of 6 letters."""
    grids = torch.meshgrid(*[torch.arange(len(LETTERS))] * N_LETTERS, indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)  # (729, 6)


@torch.no_grad()
def greedy_sort(model: GPT2LMHeadModel, letters: torch.Tensor) -> torch.Tensor:
    """Greedily generate N_LETTERS tokens after each row of `letters` (B, 6) -> (B, 6)."""
    output = model.generate(
        letters,
        attention_mask=torch.ones_like(letters),  # no padding: every prompt is 6 letters
        do_sample=False,
        max_new_tokens=N_LETTERS,
    )  # (B, 12)
    return output[:, N_LETTERS:]


def exhaustive_accuracy(model: GPT2LMHeadModel) -> float:
    letters = all_inputs()  # (729, 6)
    correct = (greedy_sort(model, letters) == letters.sort(dim=1).values).all(dim=1)  # (729,)
    return correct.float().mean().item()


def train(steps: int, seed: int, batch_size: int, lr: float) -> GPT2LMHeadModel:
    torch.manual_seed(seed)  # weight init
    data_generator = torch.Generator().manual_seed(seed)
    model = GPT2LMHeadModel(make_config())
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    # Linear decay to zero: a calm finish so the last steps do not undo a perfect model.
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    model.train()
    for step in range(1, steps + 1):
        inputs, targets = random_batch(batch_size, data_generator)
        loss = loss_on(model, inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 250 == 0 or step == 1 or step == steps:
            print(f"step {step:5d} | loss {loss.item():.6f} | lr {schedule.get_last_lr()[0]:.2e}", flush=True)
    return model.eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", default=str(CHECKPOINT_DIR), help="checkpoint directory to write")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads (the bundled checkpoint was trained with 2: the results are reproducible "
                             "for a fixed thread count; 1 is several times faster on a busy machine)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    started = time.time()
    model = train(args.steps, args.seed, args.batch_size, args.lr)
    print(f"trained in {time.time() - started:.1f}s")

    accuracy = exhaustive_accuracy(model)
    print(f"exhaustive greedy accuracy: {accuracy:.2%} of {len(LETTERS) ** N_LETTERS} inputs")
    model.save_pretrained(args.out, safe_serialization=True)
    print(f"saved to {args.out}")
    return 0 if accuracy == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
