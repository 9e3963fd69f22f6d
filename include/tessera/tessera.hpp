/// @file tessera.hpp
/// Umbrella header: the core vocabulary, arch tags, dispatch and every operator.
#pragma once
#include <tessera/arch/features.hpp>
#include <tessera/arch/native.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/core/dtype.hpp>
#include <tessera/core/extents.hpp>
#include <tessera/core/layout.hpp>
#include <tessera/core/quant.hpp>
#include <tessera/core/status.hpp>
#include <tessera/core/tensor.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/ops/conv2d.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/ops/depthwise_conv2d.hpp>
#include <tessera/ops/fully_connected.hpp>
#include <tessera/ops/fully_connected_s16.hpp>
#include <tessera/ops/gemm.hpp>
#include <tessera/ops/requantize.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>
