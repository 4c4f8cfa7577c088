"""Checks a `ticketlab export` folder with PyTorch alone, as a user of OpenLTH would load it:
torch.load (weights_only=True too) + load_state_dict(strict=True) on a model with OpenLTH's module
structure (openlth_models.py); the safetensors file holds the same tensors; mask.pth is OpenLTH's
mask (int32 0/1 for exactly the prunable weights, which are zero where it is 0). Then it compares
predictions with TicketLab's or measures accuracy:

  check_export.py EXPORT_DIR --reference REF.safetensors   # inputs, logits (and labels) from TicketLab
  check_export.py EXPORT_DIR --idx-test DATA_DIR           # accuracy on an IDX test set (MNIST layout)

Prints one JSON line; exits 1 with a message when a check fails."""
import argparse, gzip, json, os, struct, sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openlth_models  # noqa: E402

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8, 'I8': np.int8, 'I16': np.int16}


def read_safetensors(path):
    data = open(path, 'rb').read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(body[begin:end], DTYPES[entry['dtype']]).reshape(entry['shape']).copy())
    return out


def fail(message):
    print(json.dumps({'ok': False, 'error': message}))
    sys.exit(1)


def load(path):
    strict = torch.load(path, weights_only=True)  # the restricted unpickler of PyTorch 1.13 and later
    plain = torch.load(path)
    if list(strict) != list(plain):
        fail(f'{path}: weights_only=True and plain torch.load disagree')
    return strict


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('export_dir')
    parser.add_argument('--reference')
    parser.add_argument('--idx-test')
    args = parser.parse_args()
    torch.set_num_threads(1)
    manifest = json.load(open(os.path.join(args.export_dir, 'export.json')))
    spec = manifest['input']
    model = openlth_models.from_name(manifest['openlth_model_name'], spec['num_classes'], spec['channels'], spec['height'], spec['width'])
    files = manifest['files']
    state = load(os.path.join(args.export_dir, files['state_dict']))
    result = model.load_state_dict(state, strict=True)
    if result.missing_keys or result.unexpected_keys:
        fail(f'load_state_dict: {result}')
    safe = read_safetensors(os.path.join(args.export_dir, files['safetensors']))
    if sorted(safe) != sorted(state) or any(not torch.equal(safe[k], state[k]) for k in state):
        fail('the safetensors file does not hold the same tensors as the state_dict')
    report = {'ok': True, 'keys': len(state), 'model': manifest['openlth_model_name']}

    if files.get('mask'):
        mask = load(os.path.join(args.export_dir, files['mask']))
        names = openlth_models.prunable_layer_names(model)
        if sorted(mask) != sorted(names):
            fail(f'mask.pth keys {sorted(mask)} are not the prunable weights {sorted(names)}')
        weights = dict(model.named_parameters())
        for name, m in mask.items():
            if m.dtype != torch.int32 or m.shape != weights[name].shape or not bool(((m == 0) | (m == 1)).all()):
                fail(f'mask.pth {name}: expected int32 0/1 of shape {tuple(weights[name].shape)}')
            if bool((weights[name].detach()[m == 0] != 0).any()):
                fail(f'{name} has non-zero weights where the mask is 0')
        safe_mask = read_safetensors(os.path.join(args.export_dir, files['mask_safetensors']))
        if sorted(safe_mask) != sorted(mask) or any(not torch.equal(safe_mask[k], mask[k]) for k in mask):
            fail('mask.safetensors does not hold the same tensors as mask.pth')
        kept = sum(int(m.sum()) for m in mask.values())
        report['mask_density'] = kept / sum(m.numel() for m in mask.values())

    model.eval()
    if args.reference:
        ref = read_safetensors(args.reference)
        with torch.no_grad():
            logits = model(ref['inputs'])
        same = bool((logits.argmax(1) == ref['logits'].argmax(1)).all())
        report.update({'examples': int(ref['inputs'].shape[0]), 'argmax_equal': same,
                       'max_abs_logit_diff': float((logits - ref['logits']).abs().max()),
                       'max_abs_logit': float(ref['logits'].abs().max())})
        if 'labels' in ref:
            report['accuracy_pytorch'] = float((logits.argmax(1) == ref['labels']).float().mean())
            report['accuracy_ticketlab'] = float((ref['logits'].argmax(1) == ref['labels']).float().mean())
    if args.idx_test:
        images = idx(os.path.join(args.idx_test, 't10k-images-idx3-ubyte.gz'), 16).reshape(-1, spec['channels'], spec['height'], spec['width'])
        labels = torch.from_numpy(idx(os.path.join(args.idx_test, 't10k-labels-idx1-ubyte.gz'), 8).astype(np.int64))
        x = torch.from_numpy(images.astype(np.float32)) / 255
        mean = torch.tensor(spec['normalize_mean']).reshape(1, -1, 1, 1)
        std = torch.tensor(spec['normalize_std']).reshape(1, -1, 1, 1)
        x = (x - mean) / std
        correct, loss = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(labels), 1000):
                out = model(x[i:i + 1000])
                correct += int((out.argmax(1) == labels[i:i + 1000]).sum())
                loss += float(torch.nn.functional.cross_entropy(out, labels[i:i + 1000], reduction='sum'))
        report.update({'test_examples': len(labels), 'test_accuracy_pytorch': correct / len(labels), 'test_loss_pytorch': loss / len(labels),
                       'pytorch': torch.__version__})
    print(json.dumps(report))


if __name__ == '__main__':
    main()
