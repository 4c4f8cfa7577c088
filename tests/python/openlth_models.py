"""Model classes with the module structure of OpenLTH's (facebookresearch/open_lth, models/mnist_lenet.py,
cifar_resnet.py, cifar_vgg.py), written for TicketLab's interoperability tests: a state_dict that loads into
these with load_state_dict(strict=True) loads into OpenLTH's classes, whose tensor names are the same.
Only what the state_dict and the forward pass need is here (no initializers or hyperparameter defaults).
OpenLTH fixes the input to 28x28x1 (LeNet) and 3 channels (ResNet, VGG); `inputs`/`in_channels` change that."""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """mnist_lenet_N[_M...]: fully-connected hidden layers `fc_layers` (a ModuleList), output layer `fc`."""

    def __init__(self, hidden, outputs=10, inputs=784):
        super().__init__()
        sizes = [inputs] + list(hidden)
        self.fc_layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.fc = nn.Linear(sizes[-1], outputs)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        for layer in self.fc_layers:
            x = F.relu(layer(x))
        return self.fc(x)


class ResNetBlock(nn.Module):
    """conv1/bn1/conv2/bn2 and a `shortcut` Sequential: empty, or a strided 1x1 conv and BN where the shape changes."""

    def __init__(self, f_in, f_out, downsample):
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        if downsample or f_in != f_out:
            self.shortcut = nn.Sequential(nn.Conv2d(f_in, f_out, 1, stride=2, bias=False), nn.BatchNorm2d(f_out))
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """cifar_resnet_D[_W]: `conv`, `bn`, `blocks` (a Sequential of three segments of (D-2)/6 blocks, W, 2W, 4W filters), `fc`."""

    def __init__(self, depth, width=16, outputs=10, in_channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks, filters = [], width
        for segment in range(3):
            for index in range(n):
                blocks.append(ResNetBlock(filters, width << segment, segment > 0 and index == 0))
                filters = width << segment
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(filters, outputs)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.blocks(out)
        out = F.avg_pool2d(out, out.size()[3])
        return self.fc(out.reshape(out.shape[0], -1))


class VggConv(nn.Module):
    def __init__(self, f_in, f_out):
        super().__init__()
        self.conv = nn.Conv2d(f_in, f_out, 3, padding=1)
        self.bn = nn.BatchNorm2d(f_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


VGG_PLANS = {
    11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
    13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512],
    16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512],
    19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512],
}


class Vgg(nn.Module):
    """cifar_vgg_D: `layers` (a Sequential of conv modules with `conv` and `bn`, and max pools), `fc`; 2x2 average pool at the end."""

    def __init__(self, depth, outputs=10, in_channels=3):
        super().__init__()
        layers, filters = [], in_channels
        for spec in VGG_PLANS[depth]:
            if spec == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers.append(VggConv(filters, spec))
                filters = spec
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, outputs)

    def forward(self, x):
        x = F.avg_pool2d(self.layers(x), 2)
        return self.fc(x.reshape(x.shape[0], -1))


def prunable_layer_names(model):
    """OpenLTH's models/base.py: the weights of every Conv2d and Linear module."""
    return [name + '.weight' for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))]


def from_name(name, outputs=10, in_channels=None, height=28, width=28):
    """An OpenLTH model name (mnist_lenet_300_100, cifar_resnet_20, cifar_resnet_8_4, cifar_vgg_16) to a model."""
    if m := re.fullmatch(r'mnist_lenet_(\d+(?:_\d+)*)', name):
        return LeNet([int(s) for s in m.group(1).split('_')], outputs, (in_channels or 1) * height * width)
    if m := re.fullmatch(r'cifar_resnet_(\d+)(?:_(\d+))?', name):
        return ResNet(int(m.group(1)), int(m.group(2) or 16), outputs, in_channels or 3)
    if m := re.fullmatch(r'cifar_vgg_(\d+)', name):
        return Vgg(int(m.group(1)), outputs, in_channels or 3)
    raise ValueError(f'unknown OpenLTH model name {name}')
