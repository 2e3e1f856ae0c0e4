"""Batch normalisation (Ioffe and Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", arXiv:1502.03167), per channel of an (N, C, H, W) batch.

Each channel c is normalised over its m = N*H*W values, then scaled and shifted::

    mean[c]  = mean over (n, h, w) of x[n, c, h, w]
    var[c]   = mean over (n, h, w) of (x[n, c, h, w] - mean[c])**2      (biased: divided by m)
    x_hat    = (x - mean[c]) / sqrt(var[c] + eps)
    out      = gamma[c] * x_hat + beta[c]

In training the statistics are the batch's own; at evaluation they are fixed
(the running estimates kept by ``conv1x1.BatchNorm2d``), so ``out`` is an
affine map of x.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import FloatArray, check_cache, check_dout, check_float_array, check_image_batch, check_real

__all__ = ["batchnorm_forward", "batchnorm_backward", "BatchNormCache", "layernorm2d_forward", "layernorm2d_backward",
           "LayerNormCache"]


def batchnorm_forward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = 1e-5, mean: ArrayLike | None = None,
                      var: ArrayLike | None = None) -> tuple[FloatArray, BatchNormCache]:
    """Batch norm over the channels of an image batch: ``out = gamma * (x - mean) / sqrt(var + eps) + beta``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
        Scale and shift, one per channel.
    eps : float, default 1e-5
        Added to the variance before the square root.
    mean, var : ndarray, shape (C,), optional
        Statistics to normalise with (evaluation mode). When both are None the
        batch's own mean and biased variance are used (training mode).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : BatchNormCache
        Also holds the batch's ``mean`` and biased ``var`` (training mode), from
        which a layer updates its running estimates.

    Raises
    ------
    ValueError
        In training mode with one value per channel (N*H*W = 1): its variance is
        0 and normalising would map it to 0, as PyTorch refuses too.

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.array([1.0, 3.0]).reshape(2, 1, 1, 1)          # one channel, values 1 and 3
    >>> out, cache = C.batchnorm_forward(x, np.ones(1), np.zeros(1), eps=0.0)
    >>> out.ravel(), cache.mean, cache.var
    (array([-1.,  1.]), array([2.]), array([1.]))
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    channels = x.shape[1]
    eps = check_real(eps, "eps", minimum=0.0)
    gamma = check_channel_vector(gamma, "gamma", channels).astype(x.dtype, copy=False)
    beta = check_channel_vector(beta, "beta", channels).astype(x.dtype, copy=False)
    training = check_mean_and_var(mean, var)
    mu: FloatArray                             # the per-channel mean and variance normalised with
    sigma2: FloatArray
    if mean is None or var is None:            # training: the batch's own statistics
        x = check_statistics_batch(x)
        mu = x.mean(axis=(0, 2, 3))
        centered = x - mu[:, None, None]
        m = x.shape[0] * x.shape[2] * x.shape[3]
        sigma2 = (_channel_sum(centered, centered) / m).astype(x.dtype)   # biased: divided by m
    else:
        mu = check_channel_vector(mean, "mean", channels).astype(x.dtype, copy=False)
        sigma2 = check_channel_vector(var, "var", channels).astype(x.dtype, copy=False)
        centered = x - mu[:, None, None]
    inv_std = 1.0 / np.sqrt(sigma2 + eps)
    x_hat = centered
    x_hat *= inv_std[:, None, None]            # x_hat = (x - mean) / sqrt(var + eps)
    out = gamma[:, None, None] * x_hat
    out += beta[:, None, None]                 # out = gamma * x_hat + beta
    return out, BatchNormCache(x_hat, gamma, inv_std, training, mu, sigma2)


def batchnorm_backward(dout: ArrayLike, cache: BatchNormCache) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The gradients of batch norm.

    With m = N*H*W values per channel and sums over (n, h, w)::

        dbeta  = sum dout
        dgamma = sum dout * x_hat
        dx     = gamma * inv_std / m * (m * dout - dbeta - x_hat * dgamma)     (training)
        dx     = gamma * inv_std * dout                                        (evaluation)

    In training the mean and variance depend on x, which gives the two
    subtracted terms; at evaluation they are constants.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : BatchNormCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> out, cache = C.batchnorm_forward(np.array([1.0, 3.0]).reshape(2, 1, 1, 1), np.ones(1), np.zeros(1), eps=0.0)
    >>> dx, dgamma, dbeta = C.batchnorm_backward(np.ones(out.shape), cache)   # a shift of out is lost in x_hat
    >>> dx.ravel(), dgamma, dbeta
    (array([0., 0.]), array([0.]), array([2.]))
    """
    x_hat, gamma, inv_std, training, _, _ = check_cache(cache, BatchNormCache, "batchnorm_backward",
                                                        "batchnorm_forward")
    dout = check_dout(dout, x_hat.shape, x_hat.dtype)
    m = x_hat.shape[0] * x_hat.shape[2] * x_hat.shape[3]
    dtype = x_hat.dtype
    dbeta, dgamma = _channel_sum(dout), _channel_sum(dout, x_hat)       # in float32 or wider
    scale = (gamma * inv_std)[:, None, None]
    if not training:
        return scale * dout, dgamma.astype(dtype), dbeta.astype(dtype)
    dx = x_hat * (-dgamma / m).astype(dtype)[:, None, None]     # dx = scale * (dout - dbeta/m - x_hat * dgamma/m)
    dx += dout
    dx -= (dbeta / m).astype(dtype)[:, None, None]
    dx *= scale
    return dx, dgamma.astype(dtype), dbeta.astype(dtype)


def _channel_sum(a: FloatArray, b: FloatArray | None = None) -> FloatArray:
    """Per channel, the sum over (n, h, w) of ``a`` (or of ``a * b``, without making the product array).

    Accumulated in at least float32, as PyTorch does: a float16 sum overflows past 65504 long before
    the mean (the variance, dbeta / m) does. Callers round the results to the data's dtype.
    """
    total = np.promote_types(a.dtype, np.float32)
    if b is None:
        return a.sum(axis=(0, 2, 3), dtype=total)
    return np.einsum("nchw,nchw->c", a, b, dtype=total)


class BatchNormCache(NamedTuple):
    """What ``batchnorm_backward`` needs, and the statistics used.

    Attributes
    ----------
    x_hat : ndarray, shape (N, C, H, W)
        The normalised input.
    gamma, inv_std : ndarray, shape (C,)
        The scale and ``1 / sqrt(var + eps)``.
    training : bool
        Whether the batch's own statistics were used.
    mean, var : ndarray, shape (C,)
        The statistics used (the batch's biased variance in training).
    """

    x_hat: FloatArray
    gamma: FloatArray
    inv_std: FloatArray
    training: bool
    mean: FloatArray
    var: FloatArray


# ---------------------------------------------------------------- checks that belong here

def check_channel_vector(value: ArrayLike, name: str, channels: int) -> FloatArray:
    """Return ``value`` as a float array of shape (channels,): one number per channel (batch norm's gamma, mean...)."""
    value = check_float_array(value, name)
    if value.shape != (channels,):
        raise ValueError(f"{name} must have shape ({channels},), one value per channel of x, got {value.shape}")
    return value



def check_mean_and_var(mean: ArrayLike | None, var: ArrayLike | None) -> bool:
    """Return True (training mode) if neither mean nor var is given, False (evaluation mode) if both are."""
    if (mean is None) != (var is None):
        raise ValueError("pass both mean and var (evaluation mode) or neither (training mode)")
    return mean is None


def check_statistics_batch(x: FloatArray) -> FloatArray:
    """Return x (N, C, H, W) if it holds more than one value per channel, so batch statistics exist."""
    m = x.shape[0] * x.shape[2] * x.shape[3]
    if m < 2:
        raise ValueError(f"batch norm in training mode needs more than one value per channel, got x of shape "
                         f"{x.shape} (N*H*W = {m}); use a larger batch, or evaluation mode (layer.eval())")
    return x


# ---------------------------------------------------------------- layer norm over the channels (ConvNeXt)

class LayerNormCache(NamedTuple):
    """What ``layernorm2d_backward`` needs: the normalised input, the scale and ``1 / sqrt(var + eps)`` per pixel.

    Attributes
    ----------
    x_hat : ndarray, shape (N, C, H, W)
    gamma : ndarray, shape (C,)
    inv_std : ndarray, shape (N, 1, H, W)
    """

    x_hat: np.ndarray
    gamma: np.ndarray
    inv_std: np.ndarray


def layernorm2d_forward(x: ArrayLike, gamma: ArrayLike, beta: ArrayLike,
                        eps: float = 1e-6) -> tuple[NDArray[np.floating], LayerNormCache]:
    """Layer norm over the channels of every pixel (ConvNeXt's ``LayerNorm2d``).

    Where batch norm normalises each channel over the batch and the pixels, this
    normalises each pixel's channel vector ``x[n, :, h, w]`` on its own, the same in
    training and at evaluation (Ba, Kiros, Hinton 2016, "Layer Normalization",
    arXiv:1607.06450; Liu et al. 2022, "A ConvNet for the 2020s", arXiv:2201.03545)::

        mean[n, h, w] = mean over c of x[n, c, h, w]
        var[n, h, w]  = mean over c of (x[n, c, h, w] - mean[n, h, w])**2     (biased: divided by C)
        out           = gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]

    It is ``nn.LayerNorm(C)`` applied to the channels-last tensor ``x.transpose(0, 2, 3, 1)``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    eps : float, default 1e-6
        ConvNeXt's (PyTorch's ``nn.LayerNorm`` default is 1e-5).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : LayerNormCache

    Examples
    --------
    >>> import numpy as np, conv1x1 as C
    >>> x = np.array([1.0, 3.0]).reshape(1, 2, 1, 1)           # one pixel, two channels
    >>> C.layernorm2d_forward(x, np.ones(2), np.zeros(2), eps=0.0)[0].ravel()
    array([-1.,  1.])
    """
    x = check_image_batch(x, layout="(N, C, H, W)")
    channels = x.shape[1]
    eps = check_real(eps, "eps", minimum=0.0)
    gamma, beta = (check_channel_vector(v, name, channels).astype(x.dtype, copy=False)
                   for v, name in ((gamma, "gamma"), (beta, "beta")))
    mean = x.mean(axis=1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centered * inv_std
    out = gamma[:, None, None] * x_hat + beta[:, None, None]
    return out, LayerNormCache(x_hat, gamma, inv_std)


def layernorm2d_backward(dout: ArrayLike, cache: LayerNormCache
                         ) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    """Backward pass of layer norm over channels.

    With ``g = dout * gamma`` and sums over the C channels of each pixel::

        dx     = inv_std / C * (C * g - sum_c g - x_hat * sum_c (g * x_hat))
        dgamma = sum over (n, h, w) of dout * x_hat
        dbeta  = sum over (n, h, w) of dout

    Batch norm's formula, with the roles of the axes swapped: the statistics now
    depend on the channels of one pixel.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : LayerNormCache

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    x_hat, gamma, inv_std = check_cache(cache, LayerNormCache, "layernorm2d_backward", "layernorm2d_forward")
    dout = check_dout(dout, x_hat.shape, x_hat.dtype)
    channels = x_hat.shape[1]
    dbeta, dgamma = dout.sum(axis=(0, 2, 3)), (dout * x_hat).sum(axis=(0, 2, 3))
    g = dout * gamma[:, None, None]
    dx = inv_std / channels * (channels * g - g.sum(axis=1, keepdims=True)
                               - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return dx, dgamma, dbeta
