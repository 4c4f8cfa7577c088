"""PyTorch peer of `TicketLab.Bench conv`: images/s of a CIFAR ResNet-20 or VGG-16 (OpenLTH's
architectures) training step (batch 128, SGD momentum 0.9, wd 1e-4, train mode) or evaluation
(batch 1000, no grad). Usage: python3 pytorch_convnets.py resnet_20|vgg_16 step|eval THREADS [STEPS] [cpu|cuda]
On cuda, as PyTorch eager runs by default except that TF32 is on for matrix products as well as
convolutions (TicketLab's default; BENCH_TF32=0 turns both off); BENCH_CHANNELS_LAST=1 lays the
model and the batch out channels-last, as TicketLab does. BENCH_AUTOCAST=bf16 runs the forward pass and
the loss under torch.autocast(dtype=torch.bfloat16), as TicketLab's --autocast bf16 (and its bench) does."""
import os
import resource, sys, time, statistics
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, f_in, f_out, downsample):
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        self.shortcut = (nn.Sequential(nn.Conv2d(f_in, f_out, 1, 2, bias=False), nn.BatchNorm2d(f_out))
                         if downsample or f_in != f_out else nn.Sequential())

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, f_in = [], 16
        for stage, width in enumerate([16, 32, 64]):
            for i in range(3):
                blocks.append(Block(f_in, width, stage > 0 and i == 0))
                f_in = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        out = self.blocks(F.relu(self.bn(self.conv(x))))
        out = F.avg_pool2d(out, out.size()[3])
        return self.fc(out.view(out.size(0), -1))


class VGG16(nn.Module):
    PLAN = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512]

    def __init__(self):
        super().__init__()
        layers, f_in = [], 3
        for spec in self.PLAN:
            if spec == 'M':
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(f_in, spec, 3, padding=1), nn.BatchNorm2d(spec), nn.ReLU()]
                f_in = spec
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        out = F.avg_pool2d(self.layers(x), 2)
        return self.fc(out.view(out.size(0), -1))


def main():
    name, mode, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    device = torch.device(sys.argv[5] if len(sys.argv) > 5 else 'cpu')
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    if device.type == 'cuda':
        tf32 = os.environ.get('BENCH_TF32') != '0'
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=os.environ.get('BENCH_AUTOCAST') == 'bf16')
    layout = torch.channels_last if os.environ.get('BENCH_CHANNELS_LAST') == '1' else torch.contiguous_format
    model = (ResNet20() if name == 'resnet_20' else VGG16()).to(device, memory_format=layout)
    params = sum(p.numel() for p in model.parameters())
    if mode == 'step':
        batch = 128
        images, labels = torch.randn(batch, 3, 32, 32, device=device), torch.randint(0, 10, (batch,), device=device)
        images = images.contiguous(memory_format=layout)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        model.train()

        def run():
            optimizer.zero_grad()
            with autocast:
                loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
    else:
        batch = 1000
        images = torch.randn(batch, 3, 32, 32, device=device).contiguous(memory_format=layout)
        model.eval()

        def run():
            with torch.no_grad(), autocast:
                model(images).argmax(1)
    def timed():
        start = time.perf_counter()
        run()
        if device.type == 'cuda':  # the step is done when the device has finished it
            torch.cuda.synchronize()
        return time.perf_counter() - start
    for _ in range(3):
        timed()
    times = [timed() for _ in range(steps)]
    median = statistics.median(times)
    where = (f"cuda, TF32 {'on' if torch.backends.cuda.matmul.allow_tf32 else 'off'}"
             + (", channels-last" if layout == torch.channels_last else "")) if device.type == 'cuda' else f"{threads} thread(s)"
    where += ", autocast bf16" if os.environ.get('BENCH_AUTOCAST') == 'bf16' else ""
    print(f"pytorch {torch.__version__} {name} {mode}, batch {batch}, {where}, {params} parameters: "
          f"median {median * 1000:.1f} ms -> {batch / median:.0f} images/s")
    # ru_maxrss is in KiB on Linux: the same figure (VmHWM) as TicketLab's bench prints.
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == '__main__':
    main()
