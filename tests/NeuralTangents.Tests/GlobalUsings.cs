global using Xunit;
global using NeuralTangents.Tensors;
