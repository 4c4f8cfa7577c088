"""Test fixture: writes a small lottery run in OpenLTH's layout and file formats, as OpenLTH's
lottery/runner.py would leave it (own code, not OpenLTH's; nothing of OpenLTH is run):

  OUT/lottery_<md5>/replicate_1/level_L/main/
      hparams.log (level 0 only, OpenLTH's Hparams.display format), mask.pth (dict of int32 0/1),
      sparsity_report.json, model_ep0_it0.pth and model_ep<E>_it0.pth (state_dicts), logger

A LeNet (mnist_lenet_32_16) is trained with SGD on the MNIST-layout IDX files in DATA_DIR/mnist
for EPOCHS epochs per level; level L+1 prunes 20% of level L's surviving weights globally
(OpenLTH's sparse_global and its count rule, output layer left dense), rewinds to the
initialization and retrains with the mask applied before each forward pass, as OpenLTH's
PrunedModel does, so a level's saved final weights hold small values where the mask is 0.

Usage: write_openlth_run.py OUT DATA_DIR [LEVELS] [EPOCHS]; prints the lottery folder."""
import gzip, hashlib, json, os, sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openlth_models  # noqa: E402

BATCH, LR, SEED = 32, 0.05, 7
HPARAMS_LOG = """Dataset Hyperparameters
    * dataset_name => mnist
    * batch_size => {batch}
Model Hyperparameters
    * model_name => mnist_lenet_32_16
    * model_init => kaiming_normal
    * batchnorm_init => uniform
Pruning Hyperparameters
    * pruning_strategy => sparse_global
    * pruning_fraction => 0.2
    * pruning_layers_to_ignore => fc.weight
Training Hyperparameters
    * optimizer_name => sgd
    * lr => {lr}
    * training_steps => {epochs}ep
    * data_order_seed => {seed}"""


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(folder, prefix):
    x = idx(os.path.join(folder, f'{prefix}-images-idx3-ubyte.gz'), 16).reshape(-1, 1, 28, 28)
    y = idx(os.path.join(folder, f'{prefix}-labels-idx1-ubyte.gz'), 8)
    return (torch.from_numpy(x.astype(np.float32)) / 255 - 0.1307) / 0.3081, torch.from_numpy(y.astype(np.int64))


def evaluate(model, mask, x, y, logger, iteration):
    apply(model, mask)
    with torch.no_grad():
        out = model(x)
    logger.append(('test_loss', iteration, float(F.cross_entropy(out, y))))
    logger.append(('test_accuracy', iteration, float((out.argmax(1) == y).float().mean())))
    logger.append(('test_examples', iteration, float(len(y))))


def apply(model, mask):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in mask:
                p.mul_(mask[name].float())


def train(model, mask, data, epochs, folder):
    (train_x, train_y), (test_x, test_y) = data
    per_epoch = (len(train_y) + BATCH - 1) // BATCH
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    logger = []
    torch.save(model.state_dict(), os.path.join(folder, 'model_ep0_it0.pth'))
    for epoch in range(epochs):
        evaluate(model, mask, test_x, test_y, logger, epoch * per_epoch)
        order = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(SEED + epoch))
        for i in range(per_epoch):
            batch = order[i * BATCH:(i + 1) * BATCH]
            apply(model, mask)  # PrunedModel.forward masks first; the step below then moves pruned weights a little
            optimizer.zero_grad()
            F.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
    # OpenLTH's callbacks at the end step: evaluate (masked forward) after saving the weights as the last step left them.
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    evaluate(model, mask, test_x, test_y, logger, epochs * per_epoch)
    torch.save(saved, os.path.join(folder, f'model_ep{epochs}_it0.pth'))
    with open(os.path.join(folder, 'logger'), 'w') as f:
        f.write('\n'.join(f'{n},{it},{v}' for n, it, v in logger))
    return saved


def prune(weights, mask, ignore):
    """OpenLTH's sparse_global: n = ceil(0.2 x remaining over all masked tensors); weights above the n-th smallest survive."""
    remaining = sum(int(m.sum()) for m in mask.values())
    n = int(np.ceil(0.2 * remaining))
    prunable = [k for k in mask if k not in ignore]
    vector = np.concatenate([weights[k].numpy()[mask[k].numpy() == 1] for k in prunable])
    threshold = np.sort(np.abs(vector))[n]
    new = dict(mask)
    for k in prunable:
        new[k] = torch.from_numpy(np.where(np.abs(weights[k].numpy()) > threshold, mask[k].numpy(), 0)).int()
    return new


def main():
    out, data_dir = sys.argv[1], sys.argv[2]
    levels = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    data = load(os.path.join(data_dir, 'mnist'), 'train'), load(os.path.join(data_dir, 'mnist'), 't10k')
    text = HPARAMS_LOG.format(batch=BATCH, lr=LR, epochs=epochs, seed=SEED)
    lottery = os.path.join(out, 'lottery_' + hashlib.md5(text.encode()).hexdigest())
    model = openlth_models.from_name('mnist_lenet_32_16')
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(module.weight)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    mask = {name: torch.ones_like(p, dtype=torch.int32) for name, p in model.named_parameters() if name in openlth_models.prunable_layer_names(model)}
    for level in range(levels + 1):
        folder = os.path.join(lottery, 'replicate_1', f'level_{level}', 'main')
        os.makedirs(folder)
        if level == 0:
            with open(os.path.join(folder, 'hparams.log'), 'w') as f:
                f.write(text)
        torch.save({k: v.int() for k, v in mask.items()}, os.path.join(folder, 'mask.pth'))
        with open(os.path.join(folder, 'sparsity_report.json'), 'w') as f:
            json.dump({'total': float(sum(m.numel() for m in mask.values())), 'unpruned': float(sum(int(m.sum()) for m in mask.values()))}, f)
        model.load_state_dict(initial)
        apply(model, mask)
        trained = train(model, mask, data, epochs, folder)
        mask = prune(trained, mask, {'fc.weight'})
    print(lottery)


if __name__ == '__main__':
    main()
