"""Batch norm in the engine room: the plain function's maths, each thread on a share of the channels.

Batch norm treats every channel on its own, so threads can split the channels between them and write
disjoint parts of the same output arrays. The arithmetic is the plain function's, written with
``out=`` into those arrays; batches under 1 MB of float32 (``_threads.PARALLEL_SIZE``) take the plain
function itself.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_cache, check_dout, check_image_batch, check_real
from ..functional import normalization as plain_normalization
from . import _threads

__all__ = ["batchnorm_forward", "batchnorm_backward"]


def batchnorm_forward(x, gamma, beta, eps=1e-5, mean=None, var=None):
    """``conv1x1.batchnorm_forward``, the channels split between threads; returns the plain ``BatchNormCache``."""
    x = check_image_batch(x, layout="(N, C, H, W)")
    if x.size < _threads.PARALLEL_SIZE or _threads.THREADS == 1:
        return plain_normalization.batchnorm_forward(x, gamma, beta, eps, mean, var)
    n, channels, height, width = x.shape
    eps = check_real(eps, "eps", minimum=0.0)
    gamma, beta = (plain_normalization.check_channel_vector(v, name, channels).astype(x.dtype, copy=False)
                   for v, name in ((gamma, "gamma"), (beta, "beta")))
    mean, var = plain_normalization.check_mean_and_var(mean, var)
    training = mean is None
    if training:
        x = plain_normalization.check_statistics_batch(x)
        mean, var = np.empty(channels, dtype=x.dtype), np.empty(channels, dtype=x.dtype)
    else:
        mean, var = (plain_normalization.check_channel_vector(v, name, channels).astype(x.dtype, copy=False)
                     for v, name in ((mean, "mean"), (var, "var")))
    x_hat, out, inv_std = np.empty_like(x), np.empty_like(x), np.empty(channels, dtype=x.dtype)

    def run(part):                  # a share of the channels, on one thread
        x_part, x_hat_part = x[:, part], x_hat[:, part]
        if training:
            mean[part] = x_part.mean(axis=(0, 2, 3))
        np.subtract(x_part, mean[part, None, None], out=x_hat_part)
        if training:
            var[part] = plain_normalization._channel_sum(x_hat_part, x_hat_part) / (n * height * width)
        inv_std[part] = 1.0 / np.sqrt(var[part] + eps)
        x_hat_part *= inv_std[part, None, None]
        np.multiply(x_hat_part, gamma[part, None, None], out=out[:, part])
        out[:, part] += beta[part, None, None]
    _threads.in_parallel(run, _threads.shares(channels))
    return out, plain_normalization.BatchNormCache(x_hat, gamma, inv_std, training, mean, var)


def batchnorm_backward(dout, cache):
    """``conv1x1.batchnorm_backward``, the channels split between threads; reads the plain ``BatchNormCache``."""
    x_hat, gamma, inv_std, training, _, _ = check_cache(cache, plain_normalization.BatchNormCache,
                                                        "batchnorm_backward", "batchnorm_forward")
    dout = check_dout(dout, x_hat.shape, x_hat.dtype)
    if x_hat.size < _threads.PARALLEL_SIZE or _threads.THREADS == 1:
        return plain_normalization.batchnorm_backward(dout, cache)
    n, channels, height, width = x_hat.shape
    m, dtype = n * height * width, x_hat.dtype
    dx, dgamma, dbeta = np.empty_like(x_hat), np.empty(channels, dtype=dtype), np.empty(channels, dtype=dtype)

    def run(part):                  # a share of the channels, on one thread
        d, x_hat_part, dx_part = dout[:, part], x_hat[:, part], dx[:, part]
        dbeta_part = plain_normalization._channel_sum(d)
        dgamma_part = plain_normalization._channel_sum(d, x_hat_part)
        scale = (gamma[part] * inv_std[part])[:, None, None]
        if training:                # dx = scale * (dout - dbeta/m - x_hat * dgamma/m)
            np.multiply(x_hat_part, (-dgamma_part / m).astype(dtype)[:, None, None], out=dx_part)
            dx_part += d
            dx_part -= (dbeta_part / m).astype(dtype)[:, None, None]
            dx_part *= scale
        else:
            np.multiply(d, scale, out=dx_part)
        dgamma[part], dbeta[part] = dgamma_part, dbeta_part
    _threads.in_parallel(run, _threads.shares(channels))
    return dx, dgamma, dbeta
