"""PyTorch peer of `TicketLab.Bench epoch`: a plain loop training LeNet-300-100 on Fashion-MNIST as
the lenet_300_100 preset does (whole dataset as one tensor, index_select batches of 128 in a seeded
random order, SGD lr 0.1, test evaluation in batches of 1000 every epoch); with OPTIMIZER=adam, as
maene_lenet_300_100_fashion does (batches of 60, Adam lr 1.2e-3).
Usage: python3 pytorch_lenet.py DATA_DIR THREADS [EPOCHS] [OPTIMIZER=sgd|adam]"""
import gzip, os, resource, sys, time, statistics
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(folder, prefix):
    images = idx(os.path.join(folder, f'{prefix}-images-idx3-ubyte.gz'), 16).reshape(-1, 1, 28, 28)
    labels = idx(os.path.join(folder, f'{prefix}-labels-idx1-ubyte.gz'), 8)
    x = (torch.from_numpy(images.copy()).float() / 255 - 0.2860) / 0.3530
    return x, torch.from_numpy(labels.copy()).long()


def main():
    folder, threads = sys.argv[1], int(sys.argv[2])
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    adam = len(sys.argv) > 4 and sys.argv[4] == 'adam'
    batch_size = 60 if adam else 128
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    train_x, train_y = load(folder, 'train')
    test_x, test_y = load(folder, 't10k')
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1.2e-3) if adam else torch.optim.SGD(model.parameters(), lr=0.1)
    seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(order), batch_size):
            batch = order[i:i + batch_size]
            x, y = train_x.index_select(0, batch), train_y.index_select(0, batch)
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            (logits.argmax(1) == y).sum().item(), loss.item()
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(test_y), 1000):
                correct += (model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum().item()
        seconds.append(time.perf_counter() - start)
        print(f"epoch {epoch + 1}: {seconds[-1]:.3f} s, test accuracy {correct / len(test_y):.4f}")
    steady = seconds[1:] or seconds
    print(f"pytorch {torch.__version__} lenet_300_100 ({'adam, batch 60' if adam else 'sgd, batch 128'}), {threads} thread(s): median seconds per epoch (epochs 2..{epochs}): {statistics.median(steady):.3f}")
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == '__main__':
    main()
